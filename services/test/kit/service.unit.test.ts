import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  createRedisCluster, createService, identityHeaders, isReservedHeader, loadKitConfig, propagatedHeaders, readIdentity, type Service,
} from '../../src/kit';

class Lines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _e: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l) this.lines.push(JSON.parse(l));
    cb();
  }
}

describe('createService with METRICS_PORT', () => {
  it('serves /metrics alone on the second port, /metrics on PORT still, and closes it on stop', async () => {
    const metricsPort = await freePort();
    const svc = await createService({
      name: 'metrics-port-svc',
      config: loadKitConfig({ PORT: '0', HOST: '127.0.0.1', METRICS_PORT: String(metricsPort), REGISTRY_ENABLED: 'false', SHUTDOWN_GRACE_MS: '0' }),
      logDestination: new Lines(),
      routes(app) {
        app.get('/hello', async () => ({ hello: true }));
      },
    });
    await svc.start();
    await fetch(`${svc.url}/hello`);
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await scrape.text()).toMatch(/http_requests_total\{[^}]*route="\/hello"[^}]*\} 1/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/hello`)).status).toBe(404);
    expect((await fetch(`${svc.url}/metrics`)).status).toBe(200);
    await svc.stop();
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }).once('error', reject);
  });
}

describe('createService (no registry)', () => {
  let svc: Service;
  let url: string;
  const log = new Lines();
  let dbUp = true;

  beforeAll(async () => {
    svc = await createService({
      name: 'unit-svc',
      config: loadKitConfig({ PORT: '0', HOST: '127.0.0.1', REGISTRY_ENABLED: 'false', SHUTDOWN_GRACE_MS: '0', BODY_LIMIT_BYTES: '1000' }),
      logDestination: log,
      checks: { db: () => dbUp },
      routes(app) {
        app.post('/items', async (req) => ({ got: req.body }));
        app.get('/boom', async () => {
          throw new Error('secret internals');
        });
        app.get('/me', async (req) => readIdentity(req.headers) ?? null);
      },
    });
    await svc.start();
    url = svc.url;
  });
  afterAll(() => svc.stop());

  it('serves /healthz, and /readyz from its checks', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    dbUp = false;
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { db: 'failed' } });
    dbUp = true;
  });

  it('echoes or generates the request id and logs one access line with it', async () => {
    const res = await fetch(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' }, body: '{"a":1}' });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(await res.json()).toEqual({ got: { a: 1 } });
    expect(log.lines.find((l) => l.reqId === 'abc-123' && l.msg === 'request')).toMatchObject({ service: 'unit-svc', status: 200, route: '/items', method: 'POST' });
    const generated = await fetch(`${url}/items`, { method: 'POST', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers bad input with clear JSON 4xx and hides 5xx internals', async () => {
    const malformed = await fetch(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'malformed_json', requestId: expect.any(String) });
    const big = await fetch(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(2000) }) });
    expect(big.status).toBe(413);
    const boom = await fetch(`${url}/boom`);
    expect(boom.status).toBe(500);
    expect(JSON.stringify(await boom.json())).not.toContain('secret internals');
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('exposes request metrics per route', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/items",status="200",service="unit-svc"\} \d+/);
    expect(text).toContain('http_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('reads identity headers', async () => {
    const headers = identityHeaders({ userId: 'u1', roles: ['admin', 'customer'], scopes: ['read'], email: 'u1@example.test' });
    expect(await (await fetch(`${url}/me`, { headers })).json()).toEqual({ userId: 'u1', roles: ['admin', 'customer'], scopes: ['read'], email: 'u1@example.test' });
    expect(propagatedHeaders({ ...headers, 'x-request-id': 'r', cookie: 'c' })).toEqual({ ...headers, 'x-request-id': 'r' });
    expect(isReservedHeader('X-User-Id')).toBe(true);
    expect(isReservedHeader('x-request-id')).toBe(false);
  });
});

describe('createRedisCluster', () => {
  it('uses TLS, AUTH and keeps DNS names for ElastiCache; plain locally', () => {
    const aws = createRedisCluster({ nodes: ['clustercfg.example.cache.amazonaws.com:6379'], tls: true, username: 'app', password: 'token-0123456789abcdef', clusterOptions: { lazyConnect: true } });
    expect(aws.options.redisOptions).toMatchObject({ tls: {}, username: 'app', password: 'token-0123456789abcdef' });
    expect(aws.options.dnsLookup).toBeDefined();
    const local = createRedisCluster({ nodes: ['127.0.0.1:27001'], clusterOptions: { lazyConnect: true } });
    expect(local.options.redisOptions?.tls).toBeUndefined();
    expect(local.options.enableAutoPipelining).toBe(true);
    aws.disconnect();
    local.disconnect();
  });
});

describe('request budget', () => {
  it('answers 503 + Retry-After in the platform shape when a handler outlives REQUEST_BUDGET_MS, and keeps serving', async () => {
    const log = new Lines();
    let finished = 0;
    const svc = await createService({
      name: 'budget-svc',
      config: loadKitConfig({ PORT: '0', HOST: '127.0.0.1', REGISTRY_ENABLED: 'false', SHUTDOWN_GRACE_MS: '0', REQUEST_BUDGET_MS: '150' }),
      logDestination: log,
      routes(app, ctx) {
        expect(ctx.budgets).toMatchObject({ requestMs: 150, mysqlQueryMs: 75 });
        app.get('/slow', async () => {
          await new Promise((r) => setTimeout(r, 400));
          finished++;
          return { late: true };
        });
        app.get('/fast', async () => ({ ok: true }));
      },
    });
    await svc.start();
    try {
      const started = Date.now();
      const res = await fetch(`${svc.url}/slow`);
      expect(Date.now() - started).toBeLessThan(400);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const body = await res.json();
      expect(body).toEqual({ error: 'service_unavailable', message: expect.any(String), requestId: res.headers.get('x-request-id') });
      await new Promise((r) => setTimeout(r, 400));
      expect(finished).toBe(1);
      expect((await fetch(`${svc.url}/fast`)).status).toBe(200);
    } finally {
      await svc.stop();
    }
  });
});
