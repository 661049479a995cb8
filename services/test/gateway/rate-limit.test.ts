import { Cluster } from 'ioredis';
import { RESERVE_SHARE } from '../../src/gateway/rate-limit';
import { deadPort } from '../support/http';
import {
  engineEnv, engines, eventually, startEcho, startGateway, testIssuer, unique, type TestGateway, type TestIssuer,
} from '../support/engines';

let issuer: TestIssuer;
let service: string;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  issuer = await testIssuer();
  service = unique('svc');
  const e = await startEcho(service);
  stops.push(() => e.stop());
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function gateway(extra: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(issuer, extra);
  stops.push(() => gw.stop());
  await eventually(() => gw.svc.ctx.registry!.instances(service).length > 0, 2000, 'discovered');
  return gw;
}

async function hit(gw: TestGateway, token?: string, path = '/x', method = 'GET') {
  const res = await fetch(`${gw.url}/api/${service}${path}`, { method, headers: { authorization: `Bearer ${token ?? (await issuer.token())}` } });
  const body = (await res.json()) as Record<string, unknown>;
  const h = (n: string) => res.headers.get(n);
  return { status: res.status, body, remaining: h('ratelimit-remaining'), retryAfter: h('retry-after'), limit: h('ratelimit-limit'), reset: h('ratelimit-reset'), policy: h('ratelimit-policy') };
}

describe('distributed rate limiting (Redis Cluster)', () => {
  it('shares one counter between two gateway instances; 429s carry Retry-After', async () => {
    const name = unique('gateway');
    const prefix = unique('rl');
    const a = await gateway({ GATEWAY_NAME: name, RATE_LIMIT_KEY_PREFIX: prefix });
    const b = await gateway({ GATEWAY_NAME: name, RATE_LIMIT_KEY_PREFIX: prefix });
    const limits = { ip: { limit: 10, windowSeconds: 86_400 } };
    await a.setting('rate-limits', limits);
    await eventually(() => b.svc.ctx.registry!.config(name, 'rate-limits') === JSON.stringify(limits), 2000, 'b sees the limits');
    const results = [];
    for (let i = 0; i < 14; i++) results.push(await hit(i % 2 ? b : a));
    expect(results.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(results.slice(0, 10).map((r) => r.remaining)).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    expect(results.slice(10).map((r) => r.status)).toEqual([429, 429, 429, 429]);
    const limited = results[13];
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(86_400);
    expect(limited).toMatchObject({ limit: '10', remaining: '0', policy: '10;w=86400' });
    expect(limited.body).toMatchObject({ error: 'rate_limited', retryAfter: Number(limited.retryAfter) });
  });

  it('two instances under concurrent load admit no more than the limit, and at most 1 % of it less each', async () => {
    const name = unique('gateway');
    const prefix = unique('rl');
    const a = await gateway({ GATEWAY_NAME: name, RATE_LIMIT_KEY_PREFIX: prefix });
    const b = await gateway({ GATEWAY_NAME: name, RATE_LIMIT_KEY_PREFIX: prefix });
    // Limits of 200 and more are reserved ahead in slices (services/README.md, Rate limits).
    const limits = { ip: { limit: 100_000, windowSeconds: 86_400 }, user: { limit: 1000, windowSeconds: 86_400 } };
    await a.setting('rate-limits', limits);
    await eventually(() => b.svc.ctx.registry!.config(name, 'rate-limits') === JSON.stringify(limits), 2000, 'b sees the limits');
    const token = await issuer.token({ sub: unique('user') });
    const statuses: number[] = [];
    for (let burst = 0; burst < 33; burst++) {
      statuses.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => hit(i % 2 ? b : a, token).then((r) => r.status)))));
    }
    const admitted = statuses.filter((st) => st === 200).length;
    expect(statuses.filter((st) => st !== 200 && st !== 429)).toEqual([]);
    expect(admitted).toBeLessThanOrEqual(limits.user.limit);
    expect(admitted).toBeGreaterThanOrEqual(limits.user.limit * (1 - 2 * RESERVE_SHARE));
  });

  it('limits per user and per route, from hot-reloaded settings', async () => {
    const gw = await gateway();
    await gw.setting('rate-limits', {
      ip: { limit: 1000, windowSeconds: 86_400 },
      user: { limit: 3, windowSeconds: 86_400 },
      routes: [{ match: `POST /api/${service}/login`, limit: 2, windowSeconds: 86_400, by: 'ip' }],
    });
    const alice = await issuer.token({ sub: 'alice' });
    const bob = await issuer.token({ sub: 'bob' });
    expect([(await hit(gw, alice)).status, (await hit(gw, alice)).status, (await hit(gw, alice)).status]).toEqual([200, 200, 200]);
    expect((await hit(gw, alice)).status).toBe(429);
    expect((await hit(gw, bob)).status).toBe(200);
    await gw.setting('rate-limits', { user: { limit: 100, windowSeconds: 86_400 }, routes: [{ match: `POST /api/${service}/login`, limit: 2, windowSeconds: 86_400 }] });
    expect((await hit(gw, alice)).status).toBe(200);
    const logins = [];
    for (let i = 0; i < 3; i++) logins.push((await hit(gw, bob, '/login', 'POST')).status);
    expect(logins).toEqual([200, 200, 429]);
  });

  it('counts rejected (401) requests against the IP, so token guessing gets 429', async () => {
    const gw = await gateway();
    await gw.setting('rate-limits', { ip: { limit: 3, windowSeconds: 86_400 } });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${gw.url}/api/${service}/x`, { headers: { authorization: 'Bearer a.b.c' } });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('fails open when Redis is unreachable (by default), closed when configured', async () => {
    const gw = await gateway({ REDIS_CLUSTER_NODES: `127.0.0.1:${await deadPort()}` });
    const open = await hit(gw);
    expect(open.status).toBe(200);
    expect(open.remaining).toBeNull();
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/gateway_ratelimit_redis_errors_total\{mode="open",service="gateway-[0-9a-f]+"\} [1-9]/);
    await gw.setting('rate-limit-fail-mode', 'closed');
    const closed = await hit(gw);
    expect(closed.status).toBe(503);
    expect(closed.body).toMatchObject({ error: 'rate_limiter_unavailable' });
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('survives a Redis master dying: the replica takes over and limiting resumes', async () => {
    const gw = await gateway();
    const limit = 40;
    await gw.setting('rate-limits', { ip: { limit, windowSeconds: 86_400 } });
    const first = await hit(gw);
    expect(first.remaining).toBe(String(limit - 1));
    // The master that owns this gateway's per-IP counter.
    const probe = new Cluster(engineEnv().REDIS_CLUSTER_NODES.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })));
    stops.push(async () => probe.disconnect());
    const key = `${gw.rateLimitPrefix}:ip:127.0.0.1:86400:${Math.floor(Date.now() / 86_400_000)}`;
    expect(await probe.get(key)).toBe('1');
    const slot = Number(await probe.cluster('KEYSLOT', key));
    const slots = (await probe.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
    const masterPort = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    await engines('kill', 'redis', String(masterPort));
    stops.push(() => engines('start', 'redis', String(masterPort)));

    const started = Date.now();
    const statuses: number[] = [];
    let resumedAfter = -1;
    let remainingOnResume = -1;
    let limitedAfter = -1;
    while (Date.now() - started < 30_000) {
      const r = await hit(gw);
      statuses.push(r.status);
      expect([200, 429]).toContain(r.status);
      if (resumedAfter < 0 && r.remaining !== null) {
        resumedAfter = Date.now() - started;
        remainingOnResume = Number(r.remaining);
      }
      if (r.status === 429) {
        limitedAfter = Date.now() - started;
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(resumedAfter).toBeGreaterThanOrEqual(0);
    expect(limitedAfter).toBeGreaterThan(0);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    // The counter survived on the promoted replica: it went on from where it was, not from zero.
    expect(remainingOnResume).toBeLessThan(limit - 1);
  }, 60_000);
});

