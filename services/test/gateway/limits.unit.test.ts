import Fastify from 'fastify';
import { RateLimits, limitHits } from '../../src/gateway/limits';
import { GatewayMetrics, rejecter } from '../../src/gateway/metrics';
import type { LimitCounters, LimitDecision, LimitHit } from '../../src/gateway/rate-limit';
import { DEFAULT_SETTINGS, compileSettings, type GatewaySettings } from '../../src/gateway/settings';
import { Registry, createLogger } from '../../src/kit';
import { listenLocal } from '../support/http';

const identity = { userId: '42', roles: [], scopes: [] };
const servers: Array<{ close(): Promise<unknown> }> = [];
afterAll(() => Promise.all(servers.map((s) => s.close())));

describe('gateway rate limits', () => {
  it('takes a hit per IP, per user and per matching route', () => {
    const s = compileSettings({
      ...DEFAULT_SETTINGS,
      rateLimits: {
        ip: { limit: 10, windowSeconds: 60 },
        user: { limit: 20, windowSeconds: 60 },
        routes: [
          { match: 'POST /api/user/public/login', limit: 5, windowSeconds: 60, by: 'ip' },
          { match: '/api/order/**', limit: 3, windowSeconds: 10, by: 'user' },
        ],
      },
    });
    expect(limitHits(s, 'POST', '/api/user/public/login', '192.0.2.1').map((h) => h.key)).toEqual(['ip:192.0.2.1', 'r0:POST /api/user/public/login:ip:192.0.2.1']);
    expect(limitHits(s, 'GET', '/api/order/cart', '192.0.2.1', identity).map((h) => h.key)).toEqual(['ip:192.0.2.1', 'user:42', 'r1:/api/order/**:user:42']);
    // A per-user route limit counts an anonymous caller per IP.
    expect(limitHits(s, 'GET', '/api/order/cart', '192.0.2.1').map((h) => h.key)).toEqual(['ip:192.0.2.1', 'r1:/api/order/**:ip:192.0.2.1']);
  });

  /** The limits behind a one-route app; `answer` is what the counters say (an Error: Redis failed). */
  async function app(settings: Partial<GatewaySettings>, answer: LimitDecision | Error) {
    const seen: LimitHit[][] = [];
    const counters: LimitCounters = {
      hit: async (hits) => {
        seen.push([...hits]);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry, () => []);
    const limits = new RateLimits(counters, metrics, createLogger({ service: 't', level: 'silent' }), rejecter(metrics));
    const s = compileSettings({ ...DEFAULT_SETTINGS, ...settings });
    const server = Fastify();
    server.get('/api/x', async (req, reply) => (await limits.admit(req, reply, s, '/api/x')) ?? reply.send({ ok: true }));
    server.get('/api/refused', async (req, reply) => (await limits.countRefused(req, reply, s)) ?? reply.code(401).send({ error: 'missing_token' }));
    servers.push(server);
    const url = await listenLocal(server);
    return { get: (path: string) => fetch(url + path), seen, registry };
  }

  it('lets a request within its limits on, with the RateLimit headers of the binding counter', async () => {
    const { get } = await app({}, { allowed: true, limit: 600, remaining: 599, resetSeconds: 42, windowSeconds: 60 });
    const res = await get('/api/x');
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({ 'ratelimit-limit': '600', 'ratelimit-remaining': '599', 'ratelimit-reset': '42', 'ratelimit-policy': '600;w=60' });
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('answers 429 with Retry-After and the error shape past a limit', async () => {
    const { get, registry } = await app({}, { allowed: false, limit: 600, remaining: 0, resetSeconds: 7, windowSeconds: 60 });
    const res = await get('/api/x');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ error: 'rate_limited', message: 'Too many requests. Retry in 7 s.', retryAfter: 7, requestId: expect.any(String) });
    expect(await registry.metrics()).toMatch(/gateway_rejections_total\{reason="rate_limited"\} 1/);
  });

  it('fails open (counted) or closed (503) when the counters fail', async () => {
    const open = await app({ failMode: 'open' }, new Error('CLUSTERDOWN'));
    expect((await open.get('/api/x')).status).toBe(200);
    expect(await open.registry.metrics()).toMatch(/gateway_ratelimit_redis_errors_total\{mode="open"\} 1/);
    const closed = await app({ failMode: 'closed' }, new Error('CLUSTERDOWN'));
    const res = await closed.get('/api/x');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'rate_limiter_unavailable' });
  });

  it('counts a refused request against the IP alone, and answers 429 once that limit is spent', async () => {
    const spent = await app({}, { allowed: false, limit: 3, remaining: 0, resetSeconds: 5, windowSeconds: 60 });
    const res = await spent.get('/api/refused');
    expect(res.status).toBe(429);
    expect(spent.seen).toEqual([[{ key: 'ip:127.0.0.1', rule: DEFAULT_SETTINGS.rateLimits.ip }]]);
    const within = await app({}, { allowed: true, limit: 3, remaining: 2, resetSeconds: 5, windowSeconds: 60 });
    expect((await within.get('/api/refused')).status).toBe(401);
    const failing = await app({}, new Error('CLUSTERDOWN'));
    expect((await failing.get('/api/refused')).status).toBe(401);
  });
});
