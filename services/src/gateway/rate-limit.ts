import type { Cluster } from '../kit';
import type { LimitRule } from './settings';

/** One counter to take a hit on. */
export interface LimitHit {
  /** Counter identity, e.g. `ip:203.0.113.7` or `user:42` or `r0:ip:203.0.113.7`. */
  readonly key: string;
  readonly rule: LimitRule;
}

/** The most restrictive of the counters hit. */
export interface LimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the binding window resets (>= 1). */
  readonly resetSeconds: number;
  readonly windowSeconds: number;
}

// One key per call, so each call lives in one cluster slot. INCRBY then PEXPIRE when the key is
// new: the counter and its expiry are set atomically and survive a failover with the replica.
const HIT_SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

type WithHit = Cluster & { rateLimitHit(key: string, ttlMs: number, hits: number): Promise<number> };

interface Waiter {
  resolve(count: number): void;
  reject(err: unknown): void;
}

interface Batch {
  waiting: Waiter[];
  flying: boolean;
}

/** Takes one hit on each counter and says whether the request is within every limit (undefined: no counter). */
export interface LimitCounters {
  hit(hits: readonly LimitHit[], now?: number): Promise<LimitDecision | undefined>;
}

/**
 * Fixed-window counters in Redis Cluster, shared by every gateway instance. Windows are aligned to
 * the epoch, so two gateways count into the same key. Throws when Redis fails; the caller decides
 * between failing open and closed.
 */
export class RedisRateLimiter implements LimitCounters {
  private readonly redis: WithHit;
  private readonly batches = new Map<string, Batch>();

  /**
   * @param timeoutMs bound on one Redis call: ioredis queues commands while the cluster is
   *   reconnecting (its command timeout starts only once sent), so without it a request could wait
   *   for as long as Redis is gone.
   */
  constructor(
    redis: Cluster,
    private readonly prefix = 'rl',
    private readonly timeoutMs = 500,
  ) {
    redis.defineCommand('rateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    this.redis = redis as WithHit;
  }

  async hit(hits: readonly LimitHit[], now = Date.now()): Promise<LimitDecision | undefined> {
    if (hits.length === 0) return undefined;
    const results = await Promise.all(
      hits.map(async ({ key, rule }) => {
        const windowMs = rule.windowSeconds * 1000;
        const index = Math.floor(now / windowMs);
        const count = await this.increment(`${this.prefix}:${key}:${rule.windowSeconds}:${index}`, windowMs + 1000);
        const resetSeconds = Math.max(1, Math.ceil(((index + 1) * windowMs - now) / 1000));
        return { allowed: count <= rule.limit, limit: rule.limit, remaining: Math.max(0, rule.limit - count), resetSeconds, windowSeconds: rule.windowSeconds };
      }),
    );
    // A rejection wins; among equals, the counter with the fewest remaining requests.
    return results.reduce((a, b) => {
      if (a.allowed !== b.allowed) return a.allowed ? b : a;
      return b.remaining < a.remaining ? b : a;
    });
  }

  /**
   * INCR with coalescing: at most one call per key is in flight; hits arriving meanwhile go out
   * together as one INCRBY n when it returns, and each gets the count it would have got alone
   * (total - n + its position). Exact like one INCR per hit, but a hot key (one busy client)
   * costs one Redis round trip per RTT instead of one per request.
   */
  private increment(key: string, ttlMs: number): Promise<number> {
    let batch = this.batches.get(key);
    if (!batch) {
      batch = { waiting: [], flying: false };
      this.batches.set(key, batch);
    }
    const b = batch;
    return new Promise<number>((resolve, reject) => {
      b.waiting.push({ resolve, reject });
      if (!b.flying) this.flush(key, b, ttlMs);
    });
  }

  private flush(key: string, batch: Batch, ttlMs: number): void {
    const group = batch.waiting;
    batch.waiting = [];
    batch.flying = true;
    const done = (): void => {
      batch.flying = false;
      if (batch.waiting.length > 0) this.flush(key, batch, ttlMs);
      else this.batches.delete(key);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`rate limiter: Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    Promise.race([this.redis.rateLimitHit(key, ttlMs, group.length), timeout]).finally(() => clearTimeout(timer)).then(
      (total) => {
        const first = total - group.length + 1;
        group.forEach((w, i) => w.resolve(first + i));
        done();
      },
      (err: unknown) => {
        for (const w of group) w.reject(err);
        done();
      },
    );
  }
}
