/**
 * The product cache's keys and its two writes, shared by everyone who changes a product: the
 * catalog (product writes), the order service (checkout takes stock) and the order-timeout job
 * (a cancellation puts it back), the last two through the outbox (data/outbox.ts).
 *
 * Coherence: an invalidation bumps the entry's generation and deletes it; a reader fills the
 * entry only if the generation is still the one it saw before reading MySQL. So a reader that
 * loaded a row just before a stock change can never put that old row back after the change's
 * invalidation (the classic cache-aside race): the next reader loads the new row.
 */
import type { RedisClient } from './redis-lock';

/** Keys of one product share the hash tag `{<id>}`, so they live on one slot (one Lua call). */
export const productCacheKey = (id: number) => `catalog:product:{${id}}`;
export const productGenerationKey = (id: number) => `catalog:product:{${id}}:gen`;

/** Longer than any read in flight; an expired generation only makes one fill skip. */
const GENERATION_TTL_SECONDS = 86_400;

const FILL = `if (redis.call('get', KEYS[2]) or '') == ARGV[1] then return redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) else return 0 end`;
const INVALIDATE = `redis.call('incr', KEYS[2]) redis.call('expire', KEYS[2], ARGV[1]) return redis.call('del', KEYS[1])`;

/** The cached entry (JSON) and the generation seen with it ('' when none). */
export async function readProductEntry(redis: RedisClient, id: number): Promise<{ entry: string | null; generation: string }> {
  const [entry, generation] = await redis.mget(productCacheKey(id), productGenerationKey(id));
  return { entry, generation: generation ?? '' };
}

/** Caches `value` unless the product changed since `generation` was read; true if cached. */
export async function fillProductEntry(redis: RedisClient, id: number, generation: string, value: string, ttlSeconds: number): Promise<boolean> {
  return (await redis.eval(FILL, 2, productCacheKey(id), productGenerationKey(id), generation, value, String(ttlSeconds))) === 'OK';
}

/** Drops what the cache serves for these products (and any fill racing it). */
export async function invalidateProducts(redis: RedisClient, ids: readonly number[]): Promise<void> {
  await Promise.all([...new Set(ids)].map((id) => redis.eval(INVALIDATE, 2, productCacheKey(id), productGenerationKey(id), String(GENERATION_TTL_SECONDS))));
}
