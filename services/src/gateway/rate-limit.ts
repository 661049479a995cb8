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

// One key per call, so each call lives in one cluster slot. INCR then PEXPIRE on the first hit:
// the counter and its expiry are set atomically and survive a failover with the replica.
const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

type WithHit = Cluster & { rateLimitHit(key: string, ttlMs: number): Promise<number> };

/**
 * Fixed-window counters in Redis Cluster, shared by every gateway instance. Windows are aligned to
 * the epoch, so two gateways count into the same key. Throws when Redis fails; the caller decides
 * between failing open and closed.
 */
export class RedisRateLimiter {
  private readonly redis: WithHit;

  constructor(
    redis: Cluster,
    private readonly prefix = 'rl',
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
        const count = await this.redis.rateLimitHit(`${this.prefix}:${key}:${rule.windowSeconds}:${index}`, windowMs + 1000);
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
}
