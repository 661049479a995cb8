/**
 * Distributed tracing: OpenTelemetry spans exported as OTLP (http/protobuf) to a collector.
 *
 * Off unless OTEL_TRACES_EXPORTER=otlp (the charts set it from config `observability.tracing`).
 * Off costs nothing: no OpenTelemetry SDK module is loaded (only prom-client's own
 * `@opentelemetry/api`, which it loads for exemplars whatever we do), {@link tracing} returns {@link NO_TRACING},
 * and the kit installs no hook, log mixin or wrapper, so a request pays one boolean check at most.
 *
 * On: W3C `traceparent` is accepted on every request (the gateway starts a trace when none came),
 * written into every service call and every Redis Stream event, and continued by the consumer;
 * sampling is parent-based with OTEL_TRACES_SAMPLER_ARG as the ratio at the root, so one decision
 * at the gateway holds for the whole request tree. Every log line written inside a span carries
 * `trace_id` and `span_id`, sampled or not, so a log line always leads to its trace.
 *
 * The kit instruments explicitly (server and client HTTP in service.ts / service-client.ts, Redis in
 * redis.ts, the data stores in src/data): no require hooks, nothing patched behind the code's back.
 */
import type * as OtelApi from '@opentelemetry/api';
import { parseConfig, tracingSpec, ConfigError, type Parsed } from './config';

export { tracingSpec };

export type TracingConfig = Parsed<typeof tracingSpec>;

/** Header (and stream field) that carries the trace context (W3C Trace Context). */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

export type SpanKindName = 'server' | 'client' | 'producer' | 'consumer' | 'internal';
export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | undefined>;

/** A carrier of `traceparent` / `tracestate`: request headers, a stream entry's fields. */
export type Carrier = Record<string, unknown>;

/** One span, as the kit uses it. */
export interface TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  setAttribute(key: string, value: AttributeValue | undefined): void;
  /** The span name (e.g. `GET /products/:id` once the route is known). */
  rename(name: string): void;
  /** Marks the span failed and records the error as an exception event. */
  fail(err?: unknown): void;
  end(): void;
}

export interface SpanOptions {
  readonly kind?: SpanKindName;
  readonly attributes?: Attributes;
  /** Continue the trace in this carrier (a request's headers, an event's fields) instead of the active one. */
  readonly parent?: Carrier;
}

/** What the kit and the services call. {@link NO_TRACING} when tracing is off. */
export interface Tracing {
  readonly enabled: boolean;
  startSpan(name: string, options?: SpanOptions): TraceSpan;
  /**
   * A child of the active span, or undefined outside any span or inside one that is not sampled:
   * data store calls are traced only inside a recorded request or event (a job's idle polling
   * starts no trace of its own, and an unsampled request makes no span object per statement).
   */
  childSpan(name: string, options?: Omit<SpanOptions, 'parent'>): TraceSpan | undefined;
  /** Runs `fn` with `span` as the active span (children and log lines inside it follow). */
  withSpan<T>(span: TraceSpan, fn: () => T): T;
  /** A span around `fn`: ended when it settles, failed when it throws. */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: TraceSpan) => Promise<T>): Promise<T>;
  /** Writes `traceparent` (and `tracestate`) of `span`, else of the active span, into `carrier`. */
  inject(carrier: Record<string, string>, span?: TraceSpan): void;
  /** `trace_id` and `span_id` of the active span, for a log line; `{}` outside any span. */
  logFields(): { trace_id?: string; span_id?: string };
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops exporting (the last step of a shutdown). */
  shutdown(): Promise<void>;
}

const NO_SPAN: TraceSpan = {
  traceId: '',
  spanId: '',
  setAttribute: () => undefined,
  rename: () => undefined,
  fail: () => undefined,
  end: () => undefined,
};

/** Tracing off: every call is a no-op, `enabled` is false. */
export const NO_TRACING: Tracing = {
  enabled: false,
  startSpan: () => NO_SPAN,
  childSpan: () => undefined,
  withSpan: (_span, fn) => fn(),
  inSpan: (_name, _options, fn) => fn(NO_SPAN),
  inject: () => undefined,
  logFields: () => ({}),
  flush: async () => undefined,
  shutdown: async () => undefined,
};

let current: Tracing = NO_TRACING;
let starting: Promise<Tracing> | undefined;

/** The process's tracing ({@link NO_TRACING} until {@link startTracing} turned it on). */
export function tracing(): Tracing {
  return current;
}

/** Reads {@link tracingSpec}; throws one {@link ConfigError} naming every bad variable. */
export function loadTracingConfig(source: NodeJS.ProcessEnv = process.env): TracingConfig {
  const { config, problems } = parseConfig(tracingSpec, source);
  if (problems.length) throw new ConfigError(problems);
  return config as TracingConfig;
}

/** True when the configuration asks for spans to be exported. */
export const tracingWanted = (c: TracingConfig): boolean => c.OTEL_TRACES_EXPORTER === 'otlp' && !c.OTEL_SDK_DISABLED;

/** Options of {@link startTracing}. */
export interface StartTracingOptions {
  /** service.name of the spans (OTEL_SERVICE_NAME wins). */
  readonly service: string;
  /** service.instance.id. @default none */
  readonly instance?: string;
  /** service.version. @default none */
  readonly version?: string;
  /** @default loadTracingConfig() */
  readonly config?: TracingConfig;
  /**
   * Where finished spans go instead of OTLP (tests), with a synchronous processor.
   * @default OTLP http/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT, batched
   */
  readonly exporter?: unknown;
}

/**
 * Turns tracing on for this process when the configuration asks for it (once: the first call wins,
 * later calls return the same). Loads the OpenTelemetry SDK only then.
 */
export function startTracing(options: StartTracingOptions): Promise<Tracing> {
  const config = options.config ?? loadTracingConfig();
  if (!tracingWanted(config)) return Promise.resolve(current);
  starting ??= buildTracing(options, config).then((t) => (current = t));
  return starting;
}

/** Turns tracing off again and forgets it (tests). */
export async function stopTracing(): Promise<void> {
  const t = current;
  current = NO_TRACING;
  starting = undefined;
  await t.shutdown();
}

function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

async function buildTracing(options: StartTracingOptions, config: TracingConfig): Promise<Tracing> {
  const api: typeof OtelApi = await import('@opentelemetry/api');
  const [{ TracerProvider, BatchSpanProcessor, SimpleSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, AlwaysOnSampler, AlwaysOffSampler },
    { resourceFromAttributes }, { W3CTraceContextPropagator }, { AsyncLocalStorageContextManager }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  type Exporter = ConstructorParameters<typeof SimpleSpanProcessor>[0]['exporter'];
  const root = config.OTEL_TRACES_SAMPLER === 'parentbased_always_on'
    ? new AlwaysOnSampler()
    : config.OTEL_TRACES_SAMPLER === 'parentbased_always_off'
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG);
  let processor;
  if (options.exporter) {
    processor = new SimpleSpanProcessor({ exporter: options.exporter as Exporter });
  } else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const url = `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
    processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: 1000, maxQueueSize: 4096 });
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...parseResourceAttributes(config.OTEL_RESOURCE_ATTRIBUTES),
      'service.name': config.OTEL_SERVICE_NAME ?? options.service,
      ...(options.instance ? { 'service.instance.id': options.instance } : {}),
      ...(options.version ? { 'service.version': options.version } : {}),
    }),
    sampler: new ParentBasedSampler({ root }),
    spanProcessors: [processor],
  });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  return otelTracing(api, provider.getTracer('platform-kit'), provider);
}

const KINDS = (api: typeof OtelApi): Record<SpanKindName, OtelApi.SpanKind> => ({
  server: api.SpanKind.SERVER,
  client: api.SpanKind.CLIENT,
  producer: api.SpanKind.PRODUCER,
  consumer: api.SpanKind.CONSUMER,
  internal: api.SpanKind.INTERNAL,
});

/** Reads a carrier whose values may be strings or string arrays (Node's incoming headers). */
const GETTER: OtelApi.TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const v = carrier[key];
    return typeof v === 'string' || Array.isArray(v) ? (v as string | string[]) : undefined;
  },
};

class KitSpan implements TraceSpan {
  readonly traceId: string;
  readonly spanId: string;
  constructor(readonly span: OtelApi.Span, private readonly api: typeof OtelApi) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.spanId = sc.spanId;
  }
  setAttribute(key: string, value: AttributeValue | undefined): void {
    if (value !== undefined) this.span.setAttribute(key, value);
  }
  rename(name: string): void {
    this.span.updateName(name);
  }
  fail(err?: unknown): void {
    if (err instanceof Error) this.span.recordException(err);
    this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, ...(err instanceof Error ? { message: err.message } : {}) });
  }
  end(): void {
    this.span.end();
  }
}

function otelTracing(api: typeof OtelApi, tracer: OtelApi.Tracer, provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> }): Tracing {
  const kinds = KINDS(api);
  const contextOf = (span: TraceSpan) => api.trace.setSpan(api.context.active(), (span as KitSpan).span);
  const attributes = (a: Attributes | undefined): OtelApi.Attributes | undefined => {
    if (!a) return undefined;
    const out: OtelApi.Attributes = {};
    for (const [k, v] of Object.entries(a)) if (v !== undefined) out[k] = v;
    return out;
  };
  const self: Tracing = {
    enabled: true,
    startSpan(name, options = {}) {
      const parent = options.parent ? api.propagation.extract(api.ROOT_CONTEXT, options.parent, GETTER) : api.context.active();
      const span = tracer.startSpan(name, { kind: kinds[options.kind ?? 'internal'], attributes: attributes(options.attributes) }, parent);
      return new KitSpan(span, api);
    },
    childSpan(name, options = {}) {
      return api.trace.getSpan(api.context.active())?.isRecording() ? self.startSpan(name, options) : undefined;
    },
    withSpan(span, fn) {
      return api.context.with(contextOf(span), fn);
    },
    async inSpan(name, options, fn) {
      const span = self.startSpan(name, options);
      try {
        return await self.withSpan(span, () => fn(span));
      } catch (err) {
        span.fail(err);
        throw err;
      } finally {
        span.end();
      }
    },
    inject(carrier, span) {
      api.propagation.inject(span ? contextOf(span) : api.context.active(), carrier);
    },
    logFields() {
      const span = api.trace.getSpan(api.context.active());
      if (!span) return {};
      const sc = span.spanContext();
      return { trace_id: sc.traceId, span_id: sc.spanId };
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
  return self;
}
