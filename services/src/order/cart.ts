/** Carts in Redis Cluster: one hash per user (product id -> quantity), expiring after a week idle. */
import type { RedisClient } from '../data/redis-lock';

export interface CartItem {
  productId: number;
  quantity: number;
}

const key = (userId: number) => `cart:{${userId}}`;

export class CartStore {
  constructor(
    private readonly redis: RedisClient,
    readonly ttlSeconds = 7 * 86_400,
  ) {}

  async get(userId: number): Promise<CartItem[]> {
    const raw = await this.redis.hgetall(key(userId));
    return Object.entries(raw)
      .map(([productId, quantity]) => ({ productId: Number(productId), quantity: Number(quantity) }))
      .filter((i) => i.quantity > 0)
      .sort((a, b) => a.productId - b.productId);
  }

  /** Sets the quantity of one product; 0 removes it. */
  async set(userId: number, productId: number, quantity: number): Promise<CartItem[]> {
    if (quantity === 0) await this.redis.hdel(key(userId), String(productId));
    else {
      await this.redis.hset(key(userId), String(productId), String(quantity));
      await this.redis.expire(key(userId), this.ttlSeconds);
    }
    return this.get(userId);
  }

  async clear(userId: number): Promise<void> {
    await this.redis.del(key(userId));
  }
}
