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

/** Takes one hit on each counter and says whether the request is within every limit (undefined: no counter). */
export interface LimitCounters {
  hit(hits: readonly LimitHit[], now?: number): Promise<LimitDecision | undefined>;
}

// One key per call, so each call lives in one cluster slot. INCRBY then PEXPIRE when the key is
// new: the counter and its expiry are set atomically and survive a failover with the replica.
const HIT_SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

type WithHit = Cluster & { rateLimitHit(key: string, ttlMs: number, hits: number): Promise<number> };

/**
 * Limits below this are counted exactly: one Redis increment per request (concurrent ones
 * coalesced), nothing reserved ahead. From it on, an instance reserves budget in advance.
 */
export const RESERVE_FROM_LIMIT = 200;
/** A reservation is at most this share of the limit: bounds what one instance may hold unused. */
export const RESERVE_SHARE = 0.01;
/** A reservation covers about this much of the counter's recent traffic on this instance, ms. */
const RESERVE_HORIZON_MS = 100;
/** Counters held in memory at most (one per key and window); the oldest idle ones go first. */
const MAX_LEASES = 50_000;

interface Waiter {
  resolve(count: number): void;
  reject(err: unknown): void;
}

/** This instance's share of one counter in one window. */
interface Lease {
  readonly redisKey: string;
  readonly windowMs: number;
  readonly windowEnd: number;
  /** Budget reserved in Redis and not used yet. */
  tokens: number;
  /** The Redis counter after this instance's last reservation (every instance's hits and reservations). */
  total: number;
  limit: number;
  /** Redis granted less than asked: nothing more can be had in this window. */
  spent: boolean;
  /** A reservation in flight, and the hits waiting for it. */
  flying: boolean;
  waiting: Waiter[];
  /** Hits since the last reservation was sent, and when it was: this instance's rate on the counter. */
  hitsSinceReserve: number;
  reservedAt: number;
}

/**
 * Fixed-window counters in Redis Cluster, shared by every gateway instance. Windows are aligned to
 * the epoch, so two gateways count into the same key. Throws when Redis fails; the caller decides
 * between failing open and closed.
 *
 * A counter with a limit of {@link RESERVE_FROM_LIMIT} or more is not incremented per request:
 * each instance reserves a slice of the window's budget (INCRBY n, n about 100 ms of its traffic on
 * that counter, at most 1 % of the limit) and spends it locally, reserving the next slice in the
 * background before this one runs out, so a busy counter costs a Redis call every ~100 ms instead
 * of one per request and no request waits on Redis. Redis never hands out more than the limit, so
 * all instances together never admit more than the limit in a window; what an instance reserved and
 * did not use before the window ended is lost (at most 1 % of the limit per instance and counter).
 * Smaller limits are exact, as every counter was before: one increment per request.
 */
export class RedisRateLimiter implements LimitCounters {
  private readonly redis: WithHit;
  private readonly leases = new Map<string, Lease>();
  private readonly sweeper: NodeJS.Timeout;

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
    this.sweeper = setInterval(() => this.sweep(Date.now()), 5_000).unref();
  }

  hit(hits: readonly LimitHit[], now = Date.now()): Promise<LimitDecision | undefined> {
    if (hits.length === 0) return Promise.resolve(undefined);
    // Counters with budget at hand decide at once: no promise per counter, one for the request.
    const decisions = hits.map((h) => this.one(h, now));
    for (const d of decisions) if (d instanceof Promise) return Promise.all(decisions).then((ds) => ds.reduce(binding));
    return Promise.resolve((decisions as LimitDecision[]).reduce(binding));
  }

  /** Stops the sweep of ended windows. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private one({ key, rule }: LimitHit, now: number): LimitDecision | Promise<LimitDecision> {
    const windowMs = rule.windowSeconds * 1000;
    const index = Math.floor(now / windowMs);
    const lease = this.lease(`${this.prefix}:${key}:${rule.windowSeconds}:${index}`, windowMs, (index + 1) * windowMs, rule.limit);
    lease.hitsSinceReserve += 1;
    if (lease.tokens > 0) {
      lease.tokens -= 1;
      this.prefetch(lease, now);
      return decide(lease.total - lease.tokens, rule, lease, now);
    }
    if (lease.spent) return decide(rule.limit + 1, rule, lease, now);
    return new Promise<number>((resolve, reject) => {
      lease.waiting.push({ resolve, reject });
      if (!lease.flying) this.reserve(lease, now);
    }).then((count) => decide(count, rule, lease, now));
  }

  private lease(redisKey: string, windowMs: number, windowEnd: number, limit: number): Lease {
    let lease = this.leases.get(redisKey);
    if (!lease) {
      if (this.leases.size >= MAX_LEASES) this.sweep(Date.now(), true);
      lease = { redisKey, windowMs, windowEnd, tokens: 0, total: 0, limit, spent: false, flying: false, waiting: [], hitsSinceReserve: 0, reservedAt: 0 };
      this.leases.set(redisKey, lease);
    } else if (lease.limit !== limit) {
      // New settings mid-window: a raised limit may have budget again.
      lease.limit = limit;
      lease.spent = false;
    }
    return lease;
  }

  /** How much to reserve: what is waiting, or ~100 ms of this instance's traffic, at most 1 % of the limit. */
  private reservation(lease: Lease, now: number): number {
    if (lease.limit < RESERVE_FROM_LIMIT) return lease.waiting.length;
    const elapsed = Math.max(1, now - lease.reservedAt);
    const ahead = lease.reservedAt === 0 ? 1 : Math.ceil((lease.hitsSinceReserve * RESERVE_HORIZON_MS) / elapsed);
    return Math.max(lease.waiting.length, Math.min(ahead, Math.floor(lease.limit * RESERVE_SHARE)));
  }

  /** Reserves the next slice in the background once half of the last one is spent (reserving counters only). */
  private prefetch(lease: Lease, now: number): void {
    if (lease.flying || lease.spent || lease.limit < RESERVE_FROM_LIMIT) return;
    if (lease.tokens * 2 > this.reservation(lease, now)) return;
    this.reserve(lease, now);
  }

  /**
   * One INCRBY for the waiting hits and whatever is reserved ahead: each waiter gets the count it
   * would have got alone (exact for small limits), the rest stays with the lease. At most one call
   * per counter is in flight; hits arriving meanwhile wait for the next.
   */
  private reserve(lease: Lease, now: number): void {
    const want = Math.max(1, this.reservation(lease, now));
    const group = lease.waiting;
    lease.waiting = [];
    lease.flying = true;
    lease.hitsSinceReserve = 0;
    lease.reservedAt = now;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`rate limiter: Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    Promise.race([this.redis.rateLimitHit(lease.redisKey, lease.windowMs + 1000, want), timeout]).finally(() => clearTimeout(timer)).then(
      (total) => {
        // Redis counts every hit asked for; what was within the limit is this instance's to spend.
        const granted = Math.max(0, Math.min(want, lease.limit - (total - want)));
        if (granted < want) lease.spent = true;
        lease.total = total - want + granted;
        lease.tokens += granted;
        const first = total - want + 1;
        group.forEach((w, i) => {
          if (i < granted) lease.tokens -= 1;
          w.resolve(first + i);
        });
        this.landed(lease, Date.now());
      },
      (err: unknown) => {
        for (const w of group) w.reject(err);
        this.landed(lease, Date.now());
      },
    );
  }

  private landed(lease: Lease, now: number): void {
    lease.flying = false;
    if (lease.waiting.length === 0) return;
    // Hits that arrived meanwhile: served from what was reserved ahead, or by the next call.
    while (lease.tokens > 0 && lease.waiting.length > 0) {
      lease.tokens -= 1;
      lease.waiting.shift()!.resolve(lease.total - lease.tokens);
    }
    if (lease.waiting.length === 0) return;
    if (lease.spent) {
      for (const w of lease.waiting.splice(0)) w.resolve(lease.limit + 1);
      return;
    }
    this.reserve(lease, now);
  }

  /** Drops the counters of ended windows (and, when memory is full, the oldest idle ones). */
  private sweep(now: number, evict = false): void {
    for (const [key, lease] of this.leases) {
      const idle = !lease.flying && lease.waiting.length === 0;
      if (idle && (lease.windowEnd <= now || evict)) this.leases.delete(key);
      if (evict && this.leases.size < MAX_LEASES / 2) return;
    }
  }
}

/** The decision for a counter at `count` hits in the lease's window. */
function decide(count: number, rule: LimitRule, lease: Lease, now: number): LimitDecision {
  return {
    allowed: count <= rule.limit,
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - count),
    resetSeconds: Math.max(1, Math.ceil((lease.windowEnd - now) / 1000)),
    windowSeconds: rule.windowSeconds,
  };
}

/** The binding one of two decisions: a rejection wins; among equals, the one with the fewest remaining requests. */
function binding(a: LimitDecision, b: LimitDecision): LimitDecision {
  if (a.allowed !== b.allowed) return a.allowed ? b : a;
  return b.remaining < a.remaining ? b : a;
}
