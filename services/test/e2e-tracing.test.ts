jest.setTimeout(180_000);

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { seedProduct, uniqueName } from './data-engines';
import { call, eventually, spawnService, type ChildService } from './data-services';
import { startStack, type Stack } from './support/stack';

/**
 * Issue 13, traces: one checkout through the gateway is ONE connected trace across processes —
 * gateway -> order (MySQL, Redis, the order event's XADD) -> catalog, and the search-sync follower
 * that consumes the event (MySQL, OpenSearch) — as received by a real OpenTelemetry Collector (the
 * `otel` engine, spans written to TRACES_FILE). Sampling is parent-based with ratio 0 at the root:
 * only a request that arrives sampled is recorded, and every hop follows that one decision.
 */
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const TRACES_FILE = process.env.TRACES_FILE;
const tracingEnv = {
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_ENDPOINT: process.env.TRACES_OTLP_ENDPOINT,
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: '0',
};

interface Span {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
}

/** The spans of `traceId` the collector wrote so far (OTLP JSON lines). */
function spansOf(traceId: string): Span[] {
  const out: Span[] = [];
  for (const line of readFileSync(TRACES_FILE!, 'utf8').split('\n')) {
    if (!line.includes(traceId)) continue;
    for (const rs of JSON.parse(line).resourceSpans ?? []) {
      const service = rs.resource.attributes.find((a: { key: string }) => a.key === 'service.name')?.value.stringValue;
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          if (s.traceId !== traceId) continue;
          const attributes = Object.fromEntries((s.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, Object.values(a.value)[0]]));
          out.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes });
        }
      }
    }
  }
  return out;
}

const lines = (output: string[]) => output.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

let stack: Stack;
/** The traced gateway: a process of its own like every hop (the stack's in-process one, untraced, signs the buyer up). */
let gateway: ChildService;
let follower: ChildProcess;
const followerOutput: string[] = [];
beforeAll(async () => {
  if (!TRACES_FILE || !process.env.TRACES_OTLP_ENDPOINT) throw new Error('the otel engine is not up (ENGINES must name otel): no TRACES_FILE');
  stack = await startStack({ prefix: 'trace', children: true, env: tracingEnv, gatewayEnv: { OTEL_TRACES_EXPORTER: 'none' } });
  const user = stack.instances.find((i) => i.name === 'user')!;
  gateway = await spawnService('gateway', { ...stack.env, ...tracingEnv, RATE_LIMIT_ENABLED: 'false', JWT_JWKS_URL: `${user.url}/.well-known/jwks.json` });
  // The search-sync follower (a Deployment in the cluster), with tracing on like the services.
  follower = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...stack.env, ...tracingEnv, SERVICE: 'search-sync', SEARCH_SYNC_MODE: 'follow', POD_NAME: uniqueName('trace-follow'), LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  follower.stdout!.on('data', (c: Buffer) => followerOutput.push(c.toString()));
  follower.stderr!.on('data', (c: Buffer) => followerOutput.push(c.toString()));
});
afterAll(async () => {
  if (follower && follower.exitCode === null) {
    const exited = new Promise((r) => follower.once('exit', r));
    follower.kill('SIGTERM');
    await exited;
  }
  await gateway?.kill('SIGTERM');
  await stack?.stop();
});

const api = (method: string, path: string, o: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
  call(gateway.url, method, path, { body: o.body, headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers } });

test('a checkout is one connected trace: gateway -> order (MySQL, Redis, stream) -> catalog, and the job that consumes the event', async () => {
  const traceId = hex(16);
  const callerSpanId = hex(8);
  const requestId = `trace-${randomUUID()}`;
  const productId = await seedProduct(stack.db.pool, 5);
  const buyer = await stack.account();
  expect((await api('PUT', `/api/order/cart/items/${productId}`, { token: buyer.token, body: { quantity: 1 } })).status).toBe(200);
  const res = await api('POST', '/api/order/checkout', {
    token: buyer.token,
    headers: { 'idempotency-key': randomUUID(), traceparent: `00-${traceId}-${callerSpanId}-01`, 'x-request-id': requestId },
  });
  expect(res.status).toBe(201);

  // Spans arrive in batches (each process exports every second): wait until every hop's are in.
  const all = await eventually(async () => {
    const s = spansOf(traceId);
    const done = s.some((x) => x.service === 'search-sync' && x.attributes['db.system.name'] === 'opensearch')
      && s.some((x) => x.service === 'gateway' && x.kind === 2) && s.some((x) => x.service === 'order' && x.kind === 2) && s.some((x) => x.service === 'catalog' && x.kind === 2);
    return done ? s : undefined;
  }, 60_000, 250);

  const byId = new Map(all.map((s) => [s.spanId, s]));
  const parentOf = (s: Span) => byId.get(s.parentSpanId);
  const ancestors = (s: Span): Span[] => {
    const out: Span[] = [];
    for (let p = parentOf(s); p; p = parentOf(p)) out.push(p);
    return out;
  };
  const one = (what: string, pred: (s: Span) => boolean) => {
    const found = all.filter(pred);
    expect({ what, count: found.length > 0 }).toEqual({ what, count: true });
    return found;
  };
  const summary = all.map((s) => `${s.service}:${s.name}`).sort();
  console.log(`[tracing] trace ${traceId}: ${all.length} spans\n  ${summary.join('\n  ')}`);

  // Connected: every span's parent is in the trace, except the gateway's server span, whose parent
  // is the caller's span from the traceparent it sent.
  const [gatewayServer] = one('gateway server span', (s) => s.service === 'gateway' && s.kind === 2);
  expect(gatewayServer.parentSpanId).toBe(callerSpanId);
  expect(gatewayServer.attributes).toEqual(expect.objectContaining({ request_id: requestId, 'http.route': expect.stringContaining('/api/') }));
  const orphans = all.filter((s) => s !== gatewayServer && !byId.has(s.parentSpanId));
  expect(orphans.map((s) => `${s.service}:${s.name}`)).toEqual([]);
  for (const s of all) if (s !== gatewayServer) expect(ancestors(s)).toContain(gatewayServer);

  // gateway -> order: the gateway's client span is the parent of the order service's server span.
  const [orderServer] = one('order server span', (s) => s.service === 'order' && s.kind === 2 && s.name === 'POST /checkout');
  expect(parentOf(orderServer)).toMatchObject({ service: 'gateway', kind: 3, name: 'POST order' });
  expect(parentOf(parentOf(orderServer)!)).toBe(gatewayServer);
  // order's MySQL statements and Redis commands sit under its server span.
  const underOrder = (s: Span) => s.service === 'order' && ancestors(s).includes(orderServer);
  one('order MySQL statement', (s) => underOrder(s) && s.attributes['db.system.name'] === 'mysql' && s.name.startsWith('INSERT'));
  one('order Redis command', (s) => underOrder(s) && s.attributes['db.system.name'] === 'redis');
  // order -> catalog through the service client.
  const [catalogServer] = one('catalog server span', (s) => s.service === 'catalog' && s.kind === 2);
  expect(parentOf(catalogServer)).toMatchObject({ service: 'order', kind: 3, name: expect.stringMatching(/ catalog$/) });
  expect(ancestors(catalogServer)).toContain(orderServer);
  // The order event: a producer span under the request, its XADD beneath it, the job's consumer span its child.
  const [publish] = one('order event publish', (s) => underOrder(s) && s.kind === 4 && s.name === 'stream:orders publish');
  one('the XADD of the event', (s) => parentOf(s) === publish && s.name === 'XADD');
  const [consume] = one('search-sync consumer span', (s) => s.service === 'search-sync' && s.kind === 5 && s.attributes['messaging.message.id'] === publish.attributes['messaging.message.id']);
  expect(parentOf(consume)).toBe(publish);
  // The job's own work (MySQL reads, the OpenSearch write) under its consumer span.
  const underConsume = (s: Span) => s.service === 'search-sync' && ancestors(s).includes(consume);
  one('search-sync MySQL read', (s) => underConsume(s) && s.attributes['db.system.name'] === 'mysql');
  one('search-sync OpenSearch call', (s) => underConsume(s) && s.attributes['db.system.name'] === 'opensearch');

  // trace_id on the log lines: the gateway's and the order service's access lines for this request, the job's line for the event.
  expect(lines(gateway.output).find((l) => l.reqId === requestId && l.msg === 'request')).toMatchObject({ trace_id: traceId, span_id: gatewayServer.spanId });
  const orderLines = lines(stack.instances.find((i) => i.name === 'order')!.child!.output);
  expect(orderLines.find((l) => l.reqId === requestId && l.msg === 'request')).toMatchObject({ trace_id: traceId, span_id: orderServer.spanId });
  expect(lines(followerOutput).find((l) => l.msg === 'event applied' && l.id === publish.attributes['messaging.message.id'])).toMatchObject({ trace_id: traceId, span_id: consume.spanId });
});

test('sampling: a request that arrives without a sampled traceparent (ratio 0 at the root) records nothing, yet its log lines carry its trace id', async () => {
  const requestId = `trace-${randomUUID()}`;
  const productId = await seedProduct(stack.db.pool, 1);
  const res = await api('GET', `/api/catalog/public/products/${productId}`, { headers: { 'x-request-id': requestId } });
  expect(res.status).toBe(200);
  const catalog = stack.instances.find((i) => i.name === 'catalog')!.child!;
  const line = await eventually(async () => lines(catalog.output).find((l) => l.reqId === requestId && l.msg === 'request'));
  expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);
  // A sampled request after it on the same path: once its spans are in, the first request's would be
  // too (each exporter sends in order); there are none, at any hop.
  const marker = hex(16);
  expect((await api('GET', `/api/catalog/public/products/${productId}`, { headers: { traceparent: `00-${marker}-${hex(8)}-01` } })).status).toBe(200);
  await eventually(async () => {
    const s = spansOf(marker);
    return s.some((x) => x.service === 'catalog') && s.some((x) => x.service === 'gateway');
  }, 30_000, 250);
  expect(spansOf(line.trace_id as string)).toEqual([]);
});
