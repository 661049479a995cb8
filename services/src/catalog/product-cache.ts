/**
 * Cache-aside for product reads in Redis Cluster, plus view counters and the hot-products
 * leaderboard. Keys of one product share the hash tag `{<id>}` so they live on one slot.
 * Every stock or product change invalidates the entry (src/data/product-cache.ts: catalog writes,
 * checkouts and cancellations through the outbox); a fill that raced a change is dropped.
 * With Redis unavailable, reads go to MySQL directly.
 */
import { isRedisUnavailable } from '../data/dependencies';
import { fillProductEntry, invalidateProducts, readProductEntry } from '../data/product-cache';
import type { RedisClient } from '../data/redis-lock';
import type { Product } from './products-store';

export const HOT_PRODUCTS_KEY = 'catalog:hot-products';
const viewsKey = (id: number) => `catalog:product:{${id}}:views`;

export class ProductCache {
  constructor(
    private readonly redis: RedisClient,
    readonly ttlSeconds = 300,
  ) {}

  /**
   * Cached product, or load it (and cache it unless it changed meanwhile); undefined if it does
   * not exist. `cache` says where it came from: 'bypass' when Redis could not be used.
   */
  async get(id: number, load: (id: number) => Promise<Product | undefined>): Promise<{ product?: Product; cache: 'hit' | 'miss' | 'bypass' }> {
    let seen: { entry: string | null; generation: string };
    try {
      seen = await readProductEntry(this.redis, id);
    } catch (err) {
      if (!isRedisUnavailable(err)) throw err;
      return { product: await load(id), cache: 'bypass' };
    }
    if (seen.entry) return { product: JSON.parse(seen.entry) as Product, cache: 'hit' };
    const product = await load(id);
    if (product) await fillProductEntry(this.redis, id, seen.generation, JSON.stringify(product), this.ttlSeconds).catch(() => false);
    return { product, cache: 'miss' };
  }

  async invalidate(id: number): Promise<void> {
    await invalidateProducts(this.redis, [id]);
  }

  /** Counts a view: the product's counter and its leaderboard score; returns the view count. */
  async recordView(id: number): Promise<number> {
    const [views] = await Promise.all([this.redis.incr(viewsKey(id)), this.redis.zincrby(HOT_PRODUCTS_KEY, 1, String(id))]);
    return views;
  }

  async views(id: number): Promise<number> {
    return Number((await this.redis.get(viewsKey(id))) ?? 0);
  }

  /** The most viewed products, best first. */
  async hot(limit: number): Promise<{ id: number; views: number }[]> {
    const flat = await this.redis.zrevrange(HOT_PRODUCTS_KEY, 0, limit - 1, 'WITHSCORES');
    const out: { id: number; views: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: Number(flat[i]), views: Number(flat[i + 1]) });
    return out;
  }
}
