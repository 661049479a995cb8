/**
 * A single-instance Redis lock (SET NX PX + token, compare-and-delete release). With Redis Cluster
 * each key lives on one master, so this is the classic lock on that master: good for reducing
 * contention, not a correctness fence. Correctness (stock >= 0) comes from the conditional UPDATE.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export class LockTimeoutError extends Error {
  constructor(readonly key: string) {
    super(`could not take lock ${key} in time`);
    this.name = 'LockTimeoutError';
  }
}

export interface LockOptions {
  /** How long the lock lives if its holder dies. @default 5000 */
  ttlMs?: number;
  /** How long to keep trying before giving up. @default 3000 */
  waitMs?: number;
  /** Pause between attempts (jittered). @default 25 */
  retryMs?: number;
}

export interface HeldLock {
  readonly key: string;
  readonly token: string;
  /** Deletes the key only if it still holds our token; false if it had expired or been taken. */
  release(): Promise<boolean>;
  extend(ttlMs: number): Promise<boolean>;
}

export async function acquireLock(redis: RedisClient, key: string, opts: LockOptions = {}): Promise<HeldLock> {
  const ttlMs = opts.ttlMs ?? 5000;
  const deadline = Date.now() + (opts.waitMs ?? 3000);
  const retryMs = opts.retryMs ?? 25;
  const token = randomBytes(16).toString('hex');
  for (;;) {
    const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok === 'OK') {
      return {
        key,
        token,
        release: async () => (await redis.eval(RELEASE, 1, key, token)) === 1,
        extend: async (ms: number) => (await redis.eval(EXTEND, 1, key, token, String(ms))) === 1,
      };
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(key);
    await new Promise((r) => setTimeout(r, retryMs / 2 + Math.random() * retryMs));
  }
}

/**
 * Takes every lock in sorted key order (so two callers never wait on each other in a cycle), runs
 * `work`, and releases them all, also when `work` throws.
 */
export async function withLocks<T>(
  redis: RedisClient,
  keys: readonly string[],
  work: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const held: HeldLock[] = [];
  try {
    for (const key of [...new Set(keys)].sort()) held.push(await acquireLock(redis, key, opts));
    return await work();
  } finally {
    await Promise.all(held.map((l) => l.release().catch(() => false)));
  }
}
