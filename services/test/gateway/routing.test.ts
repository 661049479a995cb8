import { rawRequest } from '../support/http';
import { eventually, startEcho, startGateway, testIssuer, unique, type TestGateway, type TestIssuer } from '../support/engines';

let issuer: TestIssuer;
let gw: TestGateway;
let token: string;
const echoes: Array<Awaited<ReturnType<typeof startEcho>>> = [];

beforeAll(async () => {
  issuer = await testIssuer();
  token = await issuer.token({ sub: 'u-42', email: 'u42@example.test', scope: 'read write' });
  gw = await startGateway(issuer, { CORS_ORIGINS: 'https://shop.example.test' });
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.stop()));
  await gw?.stop();
});

async function echo(name: string, extra: Record<string, string> = {}) {
  const e = await startEcho(name, extra);
  echoes.push(e);
  return e;
}

function call(path: string, init: RequestInit & { auth?: boolean } = {}) {
  const headers = new Headers(init.headers);
  if (init.auth !== false && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${gw.url}${path}`, { ...init, headers });
}

describe('routing from the registry', () => {
  it('routes to a new instance within 1 s of its registration', async () => {
    const name = unique('svc');
    const e = await echo(name);
    const ms = await eventually(async () => (await call(`/api/${name}/hello`)).status === 200, 1000, 'routable');
    expect(ms).toBeLessThan(1000);
    const res = await call(`/api/${name}/hello?x=1`);
    const length = res.headers.get('content-length');
    const body = await res.json();
    expect(body).toMatchObject({ instance: e.instance.id, url: '/hello?x=1', method: 'GET' });
    const head = await call(`/api/${name}/hello?x=1`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(Number(length)).toBeGreaterThan(0);
  });

  it('streams a large unsized upstream body through', async () => {
    const name = unique('svc');
    await echo(name);
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 2000, 'routable');
    const res = await call(`/api/${name}/file?bytes=300000`);
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect((await res.arrayBuffer()).byteLength).toBe(300_000);
  });

  it('round-robins across two instances', async () => {
    const name = unique('svc');
    const [a, b] = [await echo(name), await echo(name)];
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 2, 2000, 'both discovered');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(((await (await call(`/api/${name}/`)).json()) as { instance: string }).instance);
    expect(seen.filter((id) => id === a.instance.id)).toHaveLength(3);
    expect(seen.filter((id) => id === b.instance.id)).toHaveLength(3);
  });

  it('retries a failing instance elsewhere for GET, not for POST', async () => {
    const name = unique('svc');
    const good = await echo(name);
    const bad = await echo(name);
    bad.faults.status = 503;
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 2, 2000, 'both discovered');
    for (let i = 0; i < 4; i++) {
      const res = await call(`/api/${name}/item`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { instance: string }).instance).toBe(good.instance.id);
    }
    const posts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await call(`/api/${name}/item`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      posts.push(res.status);
      await res.arrayBuffer();
    }
    expect(posts.sort()).toEqual([200, 503]);
  });

  it('opens the breaker when an upstream is down, answers a friendly 503, and closes on recovery', async () => {
    const name = unique('svc');
    const e = await echo(name);
    e.faults.status = 500;
    await eventually(async () => (await call(`/api/${name}/`)).status === 500, 2000, 'routable');
    for (let i = 0; i < 5; i++) await (await call(`/api/${name}/`)).arrayBuffer();
    const open = await call(`/api/${name}/`);
    expect(open.status).toBe(503);
    expect(open.headers.get('retry-after')).toBe('1');
    expect(await open.json()).toMatchObject({ error: 'service_unavailable', service: name, message: expect.stringContaining('temporarily unavailable') });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`gateway_breaker_state\\{upstream="${name}",service="gateway-[0-9a-f]+"\\} 2`));
    expect(metrics).toMatch(new RegExp(`gateway_upstream_attempts_total\\{upstream="${name}",outcome="status_500",service="gateway-[0-9a-f]+"\\} [5-9]`));
    expect(metrics).toMatch(new RegExp(`gateway_requests_total\\{route="/api/${name}",upstream="${name}",status="503"`));
    e.faults.status = 0;
    // Half-open after BREAKER_RESET_MS (1 s): one probe succeeds and the circuit closes.
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 4000, 'recovered');
    expect((await call(`/api/${name}/`)).status).toBe(200);
  });

  it('answers 503 once every instance of a service is gone', async () => {
    const name = unique('svc');
    const e = await echo(name);
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 2000, 'routable');
    await e.stop();
    await eventually(() => gw.svc.ctx.registry!.instances(name).length === 0, 2000, 'gone');
    const res = await call(`/api/${name}/`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'service_unavailable', service: name });
  });

  it('answers 404 for an unknown service and 503 for a routed service with no instance', async () => {
    const res = await call('/api/no-such-service/x');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
    await gw.setting('routes', [{ prefix: '/api/ghost', service: 'ghost-service' }]);
    const ghost = await call('/api/ghost/x');
    expect(ghost.status).toBe(503);
    expect(await ghost.json()).toMatchObject({ error: 'service_unavailable', service: 'ghost-service' });
  });

  it('hot-reloads the route table and public paths from etcd', async () => {
    const name = unique('svc');
    await echo(name);
    await gw.setting('routes', [{ prefix: '/api/v2/things', service: name, rewrite: '/things' }]);
    const body = (await (await call('/api/v2/things/7?full=1')).json()) as { url: string; headers: Record<string, string> };
    expect(body.url).toBe('/things/7?full=1');
    expect(body.headers['x-forwarded-prefix']).toBe('/api/v2/things');
    expect((await call(`/api/${name}/open/doc`, { auth: false })).status).toBe(401);
    await gw.setting('public-paths', [`GET /api/${name}/open/**`]);
    expect((await call(`/api/${name}/open/doc`, { auth: false })).status).toBe(200);
    expect((await call(`/api/${name}/open/doc`, { auth: false, method: 'POST' })).status).toBe(401);
    // A bad value is rejected and the previous settings stay.
    await gw.setting('public-paths', '{not json');
    expect((await call(`/api/${name}/open/doc`, { auth: false })).status).toBe(200);
    expect(gw.log.lines.some((l) => l.msg === 'gateway settings rejected; keeping the previous ones')).toBe(true);
  });

  it('applies IP allow and deny lists from config', async () => {
    const name = unique('svc');
    await echo(name);
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 2000, 'routable');
    await gw.setting('ip-rules', { deny: ['127.0.0.0/8'] });
    const denied = await call(`/api/${name}/`);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'forbidden' });
    await gw.setting('ip-rules', { allow: ['10.0.0.0/8'] });
    expect((await call(`/api/${name}/`)).status).toBe(403);
    await gw.setting('ip-rules', { allow: ['127.0.0.1/32', '::1/128'] });
    expect((await call(`/api/${name}/`)).status).toBe(200);
    await gw.setting('ip-rules', { allow: [], deny: [] });
  });

  it('sets request id and forwarded headers, identity from the token, and CORS', async () => {
    const name = unique('svc');
    await echo(name);
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 2000, 'routable');
    const res = await call(`/api/${name}/who`, { headers: { 'x-request-id': 'req-abc-1', origin: 'https://shop.example.test' } });
    expect(res.headers.get('x-request-id')).toBe('req-abc-1');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example.test');
    const body = (await res.json()) as { requestId: string; identity: unknown; headers: Record<string, string> };
    expect(body.requestId).toBe('req-abc-1');
    expect(body.identity).toEqual({ userId: 'u-42', roles: ['customer'], scopes: ['read', 'write'], email: 'u42@example.test', issuer: 'https://auth.test.local' });
    expect(body.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(body.headers['x-forwarded-proto']).toBe('http');
    const generated = await call(`/api/${name}/who`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const preflight = await fetch(`${gw.url}/api/${name}/who`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    const other = await call(`/api/${name}/who`, { headers: { origin: 'https://evil.example.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const line = gw.log.lines.find((l) => l.msg === 'request' && l.reqId === 'req-abc-1');
    expect(line).toMatchObject({ status: 200, service: name, user: 'u-42', method: 'GET' });
  });

  it('rejects bad input with a clear 4xx and stays up', async () => {
    const name = unique('svc');
    await echo(name);
    await eventually(async () => (await call(`/api/${name}/`)).status === 200, 2000, 'routable');
    const json = { 'content-type': 'application/json' };
    const malformed = await call(`/api/${name}/orders`, { method: 'POST', headers: json, body: '{"items": [1, 2,' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'malformed_json', message: 'The request body is not valid JSON' });
    const big = await call(`/api/${name}/orders`, { method: 'POST', headers: json, body: JSON.stringify({ blob: 'x'.repeat(1_100_000) }) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: 'body_too_large' });
    const basic = await call(`/api/${name}/orders`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expect(await basic.json()).toMatchObject({ error: 'unsupported_scheme' });
    // A header the HTTP parser refuses, and an oversized header block: answered, not crashed.
    expect(await rawRequest(gw.url, 'GET /api/x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawRequest(gw.url, `GET /api/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    const ok = await call(`/api/${name}/orders`, { method: 'POST', headers: json, body: '{"items":[1]}' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { body: unknown }).body).toEqual({ items: [1] });
  });
});
