import Fastify from 'fastify';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { traceRequests } from '../../src/kit/request-tracing';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mysqlAttributes, sqlOperation, storeCall, traceAwsClient, traceRedis } from '../../src/kit/store-tracing';
import { loadTracingConfig, startTracing, stopTracing, type Tracing } from '../../src/kit/tracing';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('store and request spans', () => {
  let exporter: InMemorySpanExporter;
  let tr: Tracing;
  beforeEach(async () => {
    exporter = new InMemorySpanExporter();
    tr = await startTracing({ service: 'unit', config: loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }), exporter });
  });
  afterEach(() => stopTracing());
  const spans = () => exporter.getFinishedSpans();

  it('a store call is a child of the active span, and no span at all outside one', async () => {
    expect(await storeCall(tr, 'SELECT', {}, async () => 1)).toBe(1);
    expect(spans()).toEqual([]);
    const parent = tr.startSpan('request');
    await tr.withSpan(parent, () => storeCall(tr, 'SELECT', { 'db.system.name': 'mysql' }, async () => 2));
    await expect(tr.withSpan(parent, () => storeCall(tr, 'INSERT', {}, async () => { throw new Error('dup'); }))).rejects.toThrow('dup');
    parent.end();
    const [select, insert] = spans();
    expect(select).toMatchObject({ name: 'SELECT', kind: 2, parentSpanContext: expect.objectContaining({ spanId: parent.spanId }) });
    expect(insert.status).toMatchObject({ code: 2, message: 'dup' });
  });

  it('inside an unsampled request no store span is made at all, and its context still travels (flags 00)', async () => {
    await stopTracing();
    tr = await startTracing({ service: 'unit', config: loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER_ARG: '0' }), exporter });
    const root = tr.startSpan('GET', { kind: 'server', parent: {} });
    const carrier: Record<string, string> = {};
    await tr.withSpan(root, async () => {
      expect(tr.childSpan('SELECT')).toBeUndefined();
      expect(await storeCall(tr, 'SELECT', {}, async () => 3)).toBe(3);
      tr.inject(carrier);
    });
    root.end();
    expect(carrier.traceparent).toBe(`00-${root.traceId}-${root.spanId}-00`);
    expect(spans()).toEqual([]);
  });

  it('redis: every command method of the instance is wrapped, auto-pipelined or not; the result is the same promise', async () => {
    const calls: unknown[][] = [];
    const client = {
      getBuiltinCommands: () => ['get', 'xadd', 'multi'],
      get: (...args: unknown[]) => { calls.push(args); return Promise.resolve('v'); },
      xadd: () => Promise.reject(new Error('NOGROUP')),
      multi: () => 'pipeline',
    };
    traceRedis(client, tr);
    const parent = tr.startSpan('event');
    await tr.withSpan(parent, async () => {
      expect(await client.get('k')).toBe('v');
      await expect(client.xadd()).rejects.toThrow('NOGROUP');
      expect(client.multi()).toBe('pipeline');
    });
    parent.end();
    expect(calls).toEqual([['k']]);
    expect(spans().map((s) => [s.name, s.attributes['db.operation.name'], s.status.code])).toEqual([['GET', 'GET', 0], ['XADD', 'XADD', 2], ['event', undefined, 0]]);
  });

  it('S3: a span for a request sent (failed here: nothing listens), none for presigning, which sends nothing', async () => {
    const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, endpoint: 'http://127.0.0.1:1', forcePathStyle: true, maxAttempts: 1 });
    traceAwsClient(s3 as unknown as Parameters<typeof traceAwsClient>[0], tr, 'S3');
    const parent = tr.startSpan('request');
    await tr.withSpan(parent, async () => {
      expect(await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'b', Key: 'k' }), { expiresIn: 60 })).toContain('X-Amz-Signature');
      await expect(s3.send(new HeadObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toThrow();
    });
    parent.end();
    s3.destroy();
    expect(spans().map((s) => [s.name, s.status.code])).toEqual([['S3.HeadObject', 2], ['request', 0]]);
  });

  it('sql: the operation from the statement, the parameterized text only', () => {
    expect(sqlOperation('  select * from t where id = ?')).toBe('SELECT');
    expect(sqlOperation({ sql: 'INSERT INTO t VALUES (?)' })).toBe('INSERT');
    expect(mysqlAttributes('UPDATE t SET a = ? WHERE id = ?', 'shop')).toEqual({
      'db.system.name': 'mysql', 'db.namespace': 'shop', 'db.operation.name': 'UPDATE', 'db.query.text': 'UPDATE t SET a = ? WHERE id = ?',
    });
  });

  it('requests: a server span continues the caller trace, names the route, carries the request id, and is active in the handler', async () => {
    const app = Fastify({ genReqId: () => 'req-1' });
    traceRequests(app, tr);
    let inHandler: string | undefined;
    app.post('/items/:id', async () => {
      inHandler = tr.logFields().span_id;
      await storeCall(tr, 'SELECT', {}, async () => undefined);
      return { ok: true };
    });
    app.get('/healthz', async () => 'ok');
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/items/7?x=1`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
    expect(res.status).toBe(200);
    await (await fetch(`${url}/healthz`)).text();
    await app.close();
    const server = spans().find((s) => s.kind === 1)!;
    expect(server).toMatchObject({ name: 'POST /items/:id', attributes: expect.objectContaining({ request_id: 'req-1', 'http.route': '/items/:id', 'url.path': '/items/7', 'http.response.status_code': 200 }) });
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(inHandler).toBe(server.spanContext().spanId);
    expect(spans().find((s) => s.name === 'SELECT')!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(spans()).toHaveLength(2); // nothing for the probe
  });
});
