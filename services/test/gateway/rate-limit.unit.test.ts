import { RESERVE_SHARE, RedisRateLimiter } from '../../src/gateway/rate-limit';
import type { Cluster } from '../../src/kit';

/** A stand-in for the Cluster: counts in memory, answers after a tick, records each call. */
function fakeRedis(fail = false) {
  const counters = new Map<string, number>();
  const calls: number[] = [];
  const redis = {
    defineCommand: () => undefined,
    rateLimitHit: (key: string, _ttl: number, hits: number) =>
      new Promise<number>((resolve, reject) =>
        setTimeout(() => {
          calls.push(hits);
          if (fail) return reject(new Error('CLUSTERDOWN'));
          counters.set(key, (counters.get(key) ?? 0) + hits);
          resolve(counters.get(key)!);
        }, 5),
      ),
  };
  return { redis: redis as unknown as Cluster, calls };
}

describe('RedisRateLimiter', () => {
  const rule = { limit: 5, windowSeconds: 60 };
  // Windows are aligned to the epoch: on the real clock a test that started near a minute's end
  // would count into two windows (and see twice the budget). The clock here starts 1 s into a
  // window and runs at real speed, so the limiter's reservation pacing still sees real elapsed time.
  beforeEach(() => {
    const start = 1_800_000_000_000 + 1_000;
    const t0 = performance.now();
    jest.spyOn(Date, 'now').mockImplementation(() => start + Math.floor(performance.now() - t0));
  });
  afterEach(() => jest.restoreAllMocks());

  it('coalesces concurrent hits on one key and stays exact', async () => {
    const { redis, calls } = fakeRedis();
    const limiter = new RedisRateLimiter(redis, 't');
    const decisions = await Promise.all(Array.from({ length: 8 }, () => limiter.hit([{ key: 'ip:1', rule }])));
    expect(decisions.map((d) => d!.remaining).sort()).toEqual([0, 0, 0, 0, 1, 2, 3, 4]);
    expect(decisions.filter((d) => !d!.allowed)).toHaveLength(3);
    expect(calls).toEqual([1, 7]);
  });

  it('picks the most restrictive counter and reports its window', async () => {
    const { redis } = fakeRedis();
    const limiter = new RedisRateLimiter(redis, 't');
    const d = await limiter.hit([{ key: 'ip:1', rule: { limit: 100, windowSeconds: 60 } }, { key: 'user:1', rule: { limit: 1, windowSeconds: 10 } }], 5_000);
    expect(d).toMatchObject({ allowed: true, limit: 1, remaining: 0, windowSeconds: 10, resetSeconds: 5 });
    const again = await limiter.hit([{ key: 'ip:1', rule: { limit: 100, windowSeconds: 60 } }, { key: 'user:1', rule: { limit: 1, windowSeconds: 10 } }], 5_000);
    expect(again).toMatchObject({ allowed: false, limit: 1 });
  });

  it('decides at once from reserved budget, and takes the binding counter whether it waited on Redis or not', async () => {
    const { redis, calls } = fakeRedis();
    const limiter = new RedisRateLimiter(redis, 't');
    const big = { limit: 100_000, windowSeconds: 60 };
    await limiter.hit([{ key: 'ip:1', rule: big }]); // the first reservation
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) await limiter.hit([{ key: 'ip:1', rule: big }]);
    const sent = calls.length;
    // ip:1 answers from its budget (no Redis call); user:9 (small limit, exact) waits for Redis and binds.
    const d = await limiter.hit([{ key: 'ip:1', rule: big }, { key: 'user:9', rule: { limit: 1, windowSeconds: 10 } }]);
    expect(d).toMatchObject({ allowed: true, limit: 1, remaining: 0, windowSeconds: 10 });
    const refused = await limiter.hit([{ key: 'user:9', rule: { limit: 1, windowSeconds: 10 } }, { key: 'ip:1', rule: big }]);
    expect(refused).toMatchObject({ allowed: false, limit: 1 });
    expect(calls.length).toBeGreaterThan(sent);
  });

  it('starts a fresh count when the epoch-aligned window turns over', async () => {
    const { redis } = fakeRedis();
    const limiter = new RedisRateLimiter(redis, 't');
    const end = 1_800_000_060_000; // a window's end (multiple of 60 s)
    const last = [];
    for (let i = 0; i < 6; i++) last.push(await limiter.hit([{ key: 'ip:1', rule }], end - 10));
    expect(last.map((d) => d!.allowed)).toEqual([true, true, true, true, true, false]);
    expect(last[5]).toMatchObject({ remaining: 0, resetSeconds: 1 });
    const next = await limiter.hit([{ key: 'ip:1', rule }], end);
    expect(next).toMatchObject({ allowed: true, remaining: 4, resetSeconds: 60 });
    limiter.close();
  });

  it('gives up on a Redis call that does not answer in time', async () => {
    const hanging = { defineCommand: () => undefined, rateLimitHit: () => new Promise<number>(() => undefined) } as unknown as Cluster;
    const limiter = new RedisRateLimiter(hanging, 't', 50);
    const started = Date.now();
    await expect(limiter.hit([{ key: 'ip:1', rule }])).rejects.toThrow('did not answer within 50 ms');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects every waiter when Redis fails, so the gateway can fail open or closed', async () => {
    const { redis } = fakeRedis(true);
    const limiter = new RedisRateLimiter(redis, 't');
    const results = await Promise.allSettled([limiter.hit([{ key: 'ip:1', rule }]), limiter.hit([{ key: 'ip:1', rule }])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('reserves budget ahead for a large limit: a busy counter costs a few Redis calls, not one per request', async () => {
    const { redis, calls } = fakeRedis();
    const limiter = new RedisRateLimiter(redis, 't');
    const big = { limit: 1_000_000, windowSeconds: 60 };
    let allowed = 0;
    for (let burst = 0; burst < 20; burst++) {
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.hit([{ key: 'ip:1', rule: big }])));
      allowed += decisions.filter((d) => d!.allowed).length;
    }
    expect(allowed).toBe(1000);
    expect(calls.length).toBeLessThan(40);
    limiter.close();
  });

  it('two instances sharing a counter never admit more than the limit, and hold back at most 1 % of it each', async () => {
    const { redis } = fakeRedis();
    const instances = [new RedisRateLimiter(redis, 't'), new RedisRateLimiter(redis, 't')];
    const shared = { limit: 1000, windowSeconds: 60 };
    let allowed = 0;
    for (let burst = 0; burst < 30; burst++) {
      const decisions = await Promise.all(Array.from({ length: 50 }, (_, i) => instances[i % 2].hit([{ key: 'user:1', rule: shared }])));
      allowed += decisions.filter((d) => d!.allowed).length;
    }
    expect(allowed).toBeLessThanOrEqual(shared.limit);
    expect(allowed).toBeGreaterThanOrEqual(shared.limit * (1 - 2 * RESERVE_SHARE));
    // Once the window's budget is spent, refusals cost no Redis call.
    const { redis: counted, calls } = fakeRedis();
    const alone = new RedisRateLimiter(counted, 't');
    const small = { limit: 200, windowSeconds: 60 };
    for (let i = 0; i < 250; i++) await alone.hit([{ key: 'ip:2', rule: small }]);
    const before = calls.length;
    expect((await alone.hit([{ key: 'ip:2', rule: small }]))!.allowed).toBe(false);
    expect(calls.length).toBe(before);
    for (const l of [...instances, alone]) l.close();
  });
});
