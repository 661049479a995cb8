import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { ConfigError } from '../../src/kit/config';
import { createLogger } from '../../src/kit/logger';
import { NO_TRACING, loadTracingConfig, startTracing, stopTracing, tracing, tracingWanted } from '../../src/kit/tracing';

const SERVICES_DIR = resolve(__dirname, '../..');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

function runNode(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['-r', './test/support/ts-register.js', '-e', script], { cwd: SERVICES_DIR, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${err.message}\n${stderr}`)) : done(stdout.trim()),
    );
  });
}

describe('tracing configuration', () => {
  it('is off unless OTEL_TRACES_EXPORTER=otlp, and OTEL_SDK_DISABLED wins', () => {
    expect(tracingWanted(loadTracingConfig({}))).toBe(false);
    expect(tracingWanted(loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }))).toBe(true);
    expect(tracingWanted(loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }))).toBe(false);
  });

  it('names every bad variable at once', () => {
    expect(() => loadTracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER_ARG: '1.5', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(ConfigError);
    try {
      loadTracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_TRACES_SAMPLER_ARG: '1.5', OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' });
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('OTEL_TRACES_EXPORTER must be one of none, otlp');
      expect(problems).toContain('OTEL_TRACES_SAMPLER_ARG must be a number at least 0 and at most 1');
      expect(problems).toContain('OTEL_EXPORTER_OTLP_ENDPOINT must be a URL');
    }
  });
});

describe('tracing off', () => {
  it('loads no OpenTelemetry SDK module: a service, its logger and its client run without one', async () => {
    // A fresh process: the kit's entry and an echo service started and called once, tracing off.
    const script = `
      const { createService, startTracing, tracing } = require('./src/kit');
      (async () => {
        await startTracing({ service: 'echo' });
        const svc = await createService({ name: 'echo', config: require('./src/kit').loadKitConfig({ PORT: '0', HOST: '127.0.0.1', REGISTRY_ENABLED: 'false', LOG_LEVEL: 'silent' }),
          routes(app) { app.get('/x', async () => ({ ok: true })); } });
        await svc.start();
        const res = await fetch(svc.url + '/x');
        await svc.stop();
        // prom-client requires @opentelemetry/api itself (exemplars); the SDK is what tracing would add.
        const loaded = Object.keys(require.cache).filter((p) => p.includes('@opentelemetry') && !p.includes('@opentelemetry/api/'));
        console.log(JSON.stringify({ status: res.status, enabled: tracing().enabled, loaded }));
      })();`;
    const out = JSON.parse(await runNode(script, {}));
    expect(out).toEqual({ status: 200, enabled: false, loaded: [] });
  });

  it('is the no-op everywhere', async () => {
    expect(await startTracing({ service: 'x', config: loadTracingConfig({}) })).toBe(NO_TRACING);
    expect(tracing()).toBe(NO_TRACING);
    const carrier: Record<string, string> = {};
    NO_TRACING.inject(carrier);
    expect(carrier).toEqual({});
    expect(NO_TRACING.logFields()).toEqual({});
    expect(await NO_TRACING.inSpan('x', {}, async (span) => span.traceId)).toBe('');
  });
});

describe('tracing on', () => {
  // A shut-down exporter exports nothing more: a new one for each test.
  let exporter: InMemorySpanExporter;
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
  });
  const start = (env: Record<string, string>) =>
    startTracing({ service: 'unit', instance: 'i-1', config: loadTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp', ...env }), exporter });

  afterEach(async () => {
    await stopTracing();
  });

  it('continues an incoming traceparent, propagates its own span, and ends with the parentage intact', async () => {
    const t = await start({});
    expect(t.enabled).toBe(true);
    const server = t.startSpan('GET', { kind: 'server', parent: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }, attributes: { request_id: 'r-1' } });
    expect(server.traceId).toBe(TRACE_ID);
    const headers: Record<string, string> = {};
    await t.withSpan(server, () =>
      t.inSpan('GET catalog', { kind: 'client' }, async (client) => {
        t.inject(headers);
        expect(headers.traceparent).toBe(`00-${TRACE_ID}-${client.spanId}-01`);
      }),
    );
    server.rename('GET /products/:id');
    server.end();
    const spans = exporter.getFinishedSpans();
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(byName['GET /products/:id'].parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(byName['GET /products/:id'].attributes.request_id).toBe('r-1');
    expect(byName['GET catalog'].parentSpanContext?.spanId).toBe(server.spanId);
    expect(byName['GET /products/:id'].resource.attributes['service.name']).toBe('unit');
  });

  it('starts a trace when none came, and the sample ratio decides at the root only', async () => {
    const t = await start({ OTEL_TRACES_SAMPLER_ARG: '0' });
    const root = t.startSpan('GET', { kind: 'server', parent: {} });
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    const headers: Record<string, string> = {};
    t.inject(headers, root);
    // Not sampled, but still propagated: downstream follows the decision (and logs the trace id).
    expect(headers.traceparent).toBe(`00-${root.traceId}-${root.spanId}-00`);
    root.end();
    // A sampled parent is followed whatever the ratio.
    const child = t.startSpan('GET', { kind: 'server', parent: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
    child.end();
    expect(exporter.getFinishedSpans().map((s) => s.spanContext().traceId)).toEqual([TRACE_ID]);
  });

  it('puts trace_id and span_id on the log lines written inside a span', async () => {
    const t = await start({});
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
    const log = createLogger({ service: 'unit', destination, traceFields: () => t.logFields() });
    log.info('outside');
    const span = t.startSpan('work');
    t.withSpan(span, () => log.child({ reqId: 'r-2' }).info('inside'));
    span.end();
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', reqId: 'r-2', trace_id: span.traceId, span_id: span.spanId });
  });

  it('records a failure on the span that threw', async () => {
    const t = await start({});
    await expect(t.inSpan('boom', {}, async () => { throw new Error('nope'); })).rejects.toThrow('nope');
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toMatchObject({ code: 2, message: 'nope' });
    expect(span.events[0].name).toBe('exception');
  });
});
