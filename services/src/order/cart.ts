/**
 * Carts in Redis Cluster: one hash per user (product id -> quantity, plus a version bumped by
 * every change), expiring after a week idle. Writes are acknowledged once a replica has them
 * (`replicated`), so a Redis failover neither loses an item the user was told was added nor brings
 * back a cart a checkout emptied. A checkout empties the cart only if it is still the version it
 * ordered: a change made meanwhile (another tab, a retried request answered from the first
 * attempt while that one was still finishing) is kept.
 */
import { replicated } from '../data/dependencies';
import type { Cluster } from '../kit';

export interface CartItem {
  productId: number;
  quantity: number;
}

/** A cart as read, with the version a conditional clear compares against. */
export interface CartSnapshot {
  readonly items: CartItem[];
  readonly version: string;
}

const key = (userId: number) => `cart:{${userId}}`;
/** The hash field holding the version (not a product id). */
const VERSION = 'v';

const CLEAR_IF = `if (redis.call('hget', KEYS[1], ARGV[1]) or '') == ARGV[2] then return redis.call('del', KEYS[1]) else return 0 end`;

export class CartStore {
  constructor(
    private readonly redis: Cluster,
    readonly ttlSeconds = 7 * 86_400,
  ) {}

  async get(userId: number): Promise<CartItem[]> {
    return (await this.read(userId)).items;
  }

  async read(userId: number): Promise<CartSnapshot> {
    const raw = await this.redis.hgetall(key(userId));
    const items = Object.entries(raw)
      .filter(([field]) => field !== VERSION)
      .map(([productId, quantity]) => ({ productId: Number(productId), quantity: Number(quantity) }))
      .filter((i) => Number.isSafeInteger(i.productId) && i.quantity > 0)
      .sort((a, b) => a.productId - b.productId);
    return { items, version: raw[VERSION] ?? '' };
  }

  /** Sets the quantity of one product; 0 removes it. */
  async set(userId: number, productId: number, quantity: number): Promise<CartItem[]> {
    const k = key(userId);
    await replicated(this.redis, k, async () => {
      if (quantity === 0) await this.redis.hdel(k, String(productId));
      else await this.redis.hset(k, String(productId), String(quantity));
      await this.redis.hincrby(k, VERSION, 1);
      await this.redis.expire(k, this.ttlSeconds);
    });
    return this.get(userId);
  }

  async clear(userId: number): Promise<void> {
    const k = key(userId);
    await replicated(this.redis, k, () => this.redis.del(k));
  }

  /** Empties the cart if it is still at `version`; true if it did. */
  async clearIf(userId: number, version: string): Promise<boolean> {
    const k = key(userId);
    return (await replicated(this.redis, k, () => this.redis.eval(CLEAR_IF, 1, k, VERSION, version))) === 1;
  }
}
