import Fastify, { type FastifyInstance } from 'fastify';
import { GatewayMetrics, rejecter } from '../../src/gateway/metrics';
import { UpstreamProxy, acceptRawBodies } from '../../src/gateway/proxy';
import type { RouteTarget } from '../../src/gateway/routing';
import { Registry, ServiceClient, type ServiceInstance } from '../../src/kit';
import { deadPort, instanceOf, json, listenLocal, startServer, type TestServer } from '../support/http';

let upstream: TestServer;
let gateway: FastifyInstance;
let url: string;
/** What discovery answers for the service `svc`. */
let instances: ServiceInstance[] = [];
const client = new ServiceClient({ discovery: { instances: () => instances }, timeoutMs: 300, retries: 0 });
const target: RouteTarget = { service: 'svc', path: '/inner', route: '/api/svc', prefix: '/api/svc' };

beforeAll(async () => {
  upstream = await startServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url?.startsWith('/inner/slow')) return; // never answers
      res.setHeader('set-cookie', 'sid=1');
      json(res, 201, { url: req.url, headers: req.headers, body });
    });
  });
  gateway = Fastify();
  acceptRawBodies(gateway, true);
  const proxy = new UpstreamProxy(client, rejecter(new GatewayMetrics(new Registry(), () => [])), 3000);
  gateway.all('/api/svc/*', async (req, reply) => {
    req.accessLog = {};
    const rest = req.url.slice('/api/svc'.length);
    return proxy.forward(req, reply, { ...target, path: `/inner${rest.split('?')[0]}` }, rest.includes('?') ? rest.slice(rest.indexOf('?')) : '', { userId: '7', roles: ['admin'], scopes: [] });
  });
  url = await listenLocal(gateway);
});
afterAll(async () => {
  await gateway.close();
  await client.close();
  await upstream.close();
});

describe('gateway proxy', () => {
  it('forwards path, query, raw body, forwarding chain and identity; copies the answer back', async () => {
    instances = [instanceOf('svc', 'a', upstream.port)];
    const res = await fetch(`${url}/api/svc/items?q=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-1', authorization: 'Bearer t' }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.headers.get('x-request-id')).toBe('req-1');
    const seen = (await res.json()) as { url: string; headers: Record<string, string>; body: string };
    expect(seen.url).toBe('/inner/items?q=1');
    expect(seen.body).toBe('{"a":1}');
    expect(seen.headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-prefix': '/api/svc', 'x-user-id': '7', 'x-user-roles': 'admin', authorization: 'Bearer t' });
  });

  it('refuses a body that says JSON and is not, before forwarding it', async () => {
    const before = upstream.hits.length;
    const res = await fetch(`${url}/api/svc/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(res.status).toBe(400);
    expect(upstream.hits.length).toBe(before);
  });

  it('answers 503 when nothing could be sent, 504 when the service is too slow', async () => {
    instances = [];
    const none = await fetch(`${url}/api/svc/x`);
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('3');
    expect(await none.json()).toMatchObject({ error: 'service_unavailable', service: 'svc', retryAfter: 3 });
    instances = [instanceOf('svc', 'dead', await deadPort())];
    const refused = await fetch(`${url}/api/svc/x`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    instances = [instanceOf('svc', 'a', upstream.port)];
    const slow = await fetch(`${url}/api/svc/slow`);
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ error: 'upstream_timeout', service: 'svc' });
  });
});
