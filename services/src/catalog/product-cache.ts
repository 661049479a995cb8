/**
 * Cache-aside for product reads in Redis Cluster, plus view counters and the hot-products
 * leaderboard. Keys of one product share the hash tag `{<id>}` so they live on one slot.
 * Writers delete the cached entry after the MySQL write; the TTL bounds any race left over.
 */
import type { RedisClient } from '../data/redis-lock';
import type { Product } from './products-store';

export const HOT_PRODUCTS_KEY = 'catalog:hot-products';
const cacheKey = (id: number) => `catalog:product:{${id}}`;
const viewsKey = (id: number) => `catalog:product:{${id}}:views`;

export class ProductCache {
  constructor(
    private readonly redis: RedisClient,
    readonly ttlSeconds = 300,
  ) {}

  /** Cached product, or load it (and cache it); undefined if it does not exist. */
  async get(id: number, load: (id: number) => Promise<Product | undefined>): Promise<{ product?: Product; hit: boolean }> {
    const cached = await this.redis.get(cacheKey(id));
    if (cached) return { product: JSON.parse(cached) as Product, hit: true };
    const product = await load(id);
    if (product) await this.redis.set(cacheKey(id), JSON.stringify(product), 'EX', this.ttlSeconds);
    return { product, hit: false };
  }

  async invalidate(id: number): Promise<void> {
    await this.redis.del(cacheKey(id));
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
