import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { Breaker } from './breaker';
import type { ServiceInstance } from './registry';
import { ResponseBody } from './response-body';
import { TRACEPARENT, TRACESTATE, tracing, type TraceSpan, type Tracing } from './tracing';

/** Where the client finds instances: a {@link RegistryClient} after `discover()`, or a stub in tests. */
export interface Discovery {
  instances(service: string): ServiceInstance[];
}

/**
 * Set by a service on a 503 that says one of its dependencies (database, Redis, ...) is down, not
 * the instance: the answer goes to the caller as it is, is not retried on another instance (they
 * share the dependency) and does not count against the instance's breaker.
 */
export const DEPENDENCY_UNAVAILABLE_HEADER = 'x-dependency-unavailable';

/** A request carrying this header may be retried like a PUT: the service answers a repeat with the first result. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** How an instance is picked among the healthy ones. */
export type BalancerKind = 'round-robin' | 'weighted' | 'least-outstanding';

/** Circuit breaker settings, one breaker per instance. */
export interface BreakerSettings {
  /** Failure percentage in the rolling window that opens the breaker. @default 50 */
  readonly errorThresholdPercentage?: number;
  /** Minimum requests in the window before it may open. @default 5 */
  readonly volumeThreshold?: number;
  /** Time open before a half-open probe is let through, ms. @default 5000 */
  readonly resetTimeoutMs?: number;
  /** Rolling statistics window, ms. @default 10000 */
  readonly rollingWindowMs?: number;
}

/** One outgoing call. */
export interface ServiceRequest {
  /** @default 'GET' */
  readonly method?: string;
  /** Path with query string, e.g. `/items?limit=10`. */
  readonly path: string;
  readonly headers?: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  /** Raw body. Must be a Buffer or string (not a stream) so a retry can send it again. */
  readonly body?: Buffer | string;
  /** JSON body: serialized, with `content-type: application/json`. */
  readonly json?: unknown;
  /**
   * May be retried on another instance after a timeout or a failure status. @default true for GET,
   * HEAD, OPTIONS, PUT, DELETE and any request with an `Idempotency-Key` header. Whatever this
   * says, a request that never reached an instance (connection refused) is retried on another.
   */
  readonly idempotent?: boolean;
  /** Per-attempt timeout to response headers (and between body chunks), ms. @default client's */
  readonly timeoutMs?: number;
  /** Bound on the whole call, all attempts, ms. @default client's */
  readonly deadlineMs?: number;
  /** Abort the whole call (all attempts). */
  readonly signal?: AbortSignal;
}

/** A response, body not yet read (read it, stream it, or call `body.dump()`). */
export interface ServiceResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: ResponseBody;
  /** The instance that answered (undefined when a fallback answered). */
  readonly instance?: ServiceInstance;
  /** Attempts made, retries included. */
  readonly attempts: number;
}

/** Called when every attempt failed: return a substitute response (its body `ResponseBody.of(...)`), or throw. */
export type Fallback = (service: string, request: ServiceRequest, error: Error) => Promise<ServiceResponse> | ServiceResponse;

/** Options of {@link ServiceClient}. */
export interface ServiceClientOptions {
  readonly discovery: Discovery;
  /** @default 'round-robin' */
  readonly balancer?: BalancerKind;
  /** Per-attempt timeout, ms. @default 5000 */
  readonly timeoutMs?: number;
  /** Bound on one call, all its attempts, ms: no attempt starts or runs past it. @default none */
  readonly deadlineMs?: number;
  /**
   * An instance that refused a connection is left out of the picks for this long, ms (passive
   * ejection: a dead instance stops costing requests before its registry lease expires). @default 10000
   */
  readonly ejectMs?: number;
  /** Extra attempts, each on another instance, for idempotent requests. @default 2 */
  readonly retries?: number;
  /** Statuses that count as instance failures: breaker failure, and retried when idempotent. @default [500, 502, 503, 504] */
  readonly failureStatuses?: readonly number[];
  /** @default see {@link BreakerSettings} */
  readonly breaker?: BreakerSettings;
  /** Keep-alive connections per instance. @default 64 */
  readonly connectionsPerInstance?: number;
  /** @default none: the error is thrown */
  readonly fallback?: Fallback;
  /** @default silent */
  readonly logger?: Logger;
  /** Observes every attempt (metrics). */
  readonly onAttempt?: (event: AttemptEvent) => void;
}

/** Reported to `onAttempt` after each attempt. */
export interface AttemptEvent {
  readonly service: string;
  readonly instance: ServiceInstance;
  /** 'ok', a failure status as 'status_503', 'timeout', 'connect' (refused or reset) or 'error', or 'breaker_open'. */
  readonly outcome: string;
  readonly durationMs: number;
}

/** No instance of the service is registered. */
export class NoInstanceError extends Error {
  constructor(readonly service: string) {
    super(`no registered instance of service "${service}"`);
    this.name = 'NoInstanceError';
  }
}

/** Every instance of the service has an open breaker (or was ejected): the call was not attempted. */
export class BreakerOpenError extends Error {
  constructor(readonly service: string) {
    super(`circuit open for every instance of service "${service}"`);
    this.name = 'BreakerOpenError';
  }
}

/** The instance answered with a failure status (see `failureStatuses`). */
export class FailureStatusError extends Error {
  constructor(readonly response: ServiceResponse) {
    super(`instance answered ${response.statusCode}`);
    this.name = 'FailureStatusError';
  }
}

/** A non-2xx answer to {@link ServiceClient.json}. */
export class ServiceHttpError extends Error {
  constructor(
    readonly service: string,
    readonly statusCode: number,
    readonly body: unknown,
  ) {
    super(`service "${service}" answered ${statusCode}`);
    this.name = 'ServiceHttpError';
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'host', 'content-length',
]);

interface Target {
  readonly key: string;
  readonly origin: string;
  readonly pool: Pool;
  readonly breaker: Breaker;
  inflight: number;
  weightCurrent: number;
  lastUsed: number;
  /** Not picked before this time (epoch ms): it refused a connection. */
  ejectedUntil: number;
}

/** No response headers within the attempt's time (undici's own code, so callers see one kind). */
class HeadersTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(ms: number) {
    super(`no response headers within ${ms} ms`);
    this.name = 'HeadersTimeoutError';
  }
}

/** Errors of a connection that was never established: the request did not reach the instance. */
const NOT_REACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when `err` says the request never reached the instance (safe to send elsewhere, whatever the method). */
export function neverReached(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return typeof code === 'string' && NOT_REACHED.has(code);
}

/**
 * Calls other services by name, the way Ribbon + Feign do: picks a healthy instance from the
 * discovery table (round-robin, smooth weighted, or least outstanding requests), keeps a keep-alive
 * undici pool and a circuit breaker per instance, times attempts out (and the whole call, with
 * `deadlineMs`), retries idempotent requests on another instance, sends a request that never
 * reached an instance (connection refused) to another one whatever its method and ejects the
 * instance that refused, and calls a fallback when everything failed.
 */
export class ServiceClient {
  private readonly targets = new Map<string, Target>();
  private readonly byInstance = new WeakMap<ServiceInstance, Target>();
  private readonly rr = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly deadlineMs: number | undefined;
  private readonly ejectMs: number;
  private readonly retries: number;
  private readonly failureStatuses: ReadonlySet<number>;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly options: ServiceClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.deadlineMs = options.deadlineMs;
    this.ejectMs = options.ejectMs ?? 10_000;
    this.retries = options.retries ?? 2;
    this.failureStatuses = new Set(options.failureStatuses ?? [500, 502, 503, 504]);
    this.pruneTimer = setInterval(() => this.prune(), 30_000).unref();
  }

  /**
   * Sends `request` to an instance of `service`. Resolves with the response of the first attempt
   * that did not fail; for a non-idempotent request, with the failing response itself. Rejects with
   * {@link NoInstanceError}, {@link BreakerOpenError} or the last network error (unless a fallback
   * answers).
   */
  async request(service: string, request: ServiceRequest): Promise<ServiceResponse> {
    const method = (request.method ?? 'GET').toUpperCase();
    const idempotent = request.idempotent ?? (IDEMPOTENT.has(method) || hasHeader(request.headers, IDEMPOTENCY_KEY_HEADER));
    const maxAttempts = 1 + this.retries;
    const deadlineMs = request.deadlineMs ?? this.deadlineMs;
    const deadline = deadlineMs === undefined ? Infinity : performance.now() + deadlineMs;
    // The instances tried: the first by itself, a set only once there is a retry (most calls have none).
    let first: string | undefined;
    let tried: Set<string> | undefined;
    let lastError: Error | undefined;
    // A failing answer is kept until another attempt answers: if none does, it is the answer.
    let lastFailure: FailureStatusError | undefined;
    let attempts = 0;
    while (attempts < maxAttempts) {
      const remaining = deadline - performance.now();
      if (attempts > 0 && remaining < 1) break;
      const instance = this.pick(service, first, tried);
      if (!instance) {
        lastError ??= this.options.discovery.instances(service).length === 0 ? new NoInstanceError(service) : new BreakerOpenError(service);
        break;
      }
      if (first === undefined) first = instance.id;
      else (tried ??= new Set()).add(instance.id);
      attempts += 1;
      try {
        const timeout = Math.max(1, Math.min(request.timeoutMs ?? this.timeoutMs, remaining));
        const response = await this.attempt(service, instance, method, request, attempts, timeout);
        if (lastFailure) await dropFailure(lastFailure);
        return response;
      } catch (err) {
        lastError = err as Error;
        if (err instanceof FailureStatusError) {
          if (lastFailure) await dropFailure(lastFailure);
          lastFailure = err;
        }
        // Sent nowhere yet: any method goes to another instance. Otherwise only an idempotent one.
        const retry = (idempotent || neverReached(err)) && !request.signal?.aborted;
        if (!retry) break;
      }
    }
    if (lastFailure) return lastFailure.response;
    const error = lastError ?? new NoInstanceError(service);
    if (this.options.fallback) return this.options.fallback(service, request, error);
    throw error;
  }

  /**
   * Convenience for JSON APIs: sends `request`, parses the JSON answer, and throws
   * {@link ServiceHttpError} for a status >= 400.
   */
  async json<T = unknown>(service: string, request: ServiceRequest): Promise<T> {
    const res = await this.request(service, request);
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    if (res.statusCode >= 400) throw new ServiceHttpError(service, res.statusCode, parsed);
    return parsed as T;
  }

  /** 'open' when every instance's breaker is open, 'half-open' when some probe, else 'closed'. */
  breakerState(service: string): 'closed' | 'open' | 'half-open' {
    const breakers = this.options.discovery
      .instances(service)
      .map((i) => this.targets.get(targetKey(i))?.breaker)
      .filter((b): b is NonNullable<typeof b> => b !== undefined);
    if (breakers.length === 0 || breakers.some((b) => b.closed)) return 'closed';
    return breakers.some((b) => b.halfOpen) ? 'half-open' : 'open';
  }

  /** In-flight requests to one instance (for tests and metrics). */
  outstanding(instance: ServiceInstance): number {
    return this.targets.get(targetKey(instance))?.inflight ?? 0;
  }

  /** Closes every pool and breaker. */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    const targets = [...this.targets.values()];
    this.targets.clear();
    for (const t of targets) t.breaker.shutdown();
    await Promise.allSettled(targets.map((t) => t.pool.close()));
  }

  /** An instance that is neither `first` nor in `tried`, not ejected and whose breaker admits a call. */
  private pick(service: string, first: string | undefined, tried: ReadonlySet<string> | undefined): ServiceInstance | undefined {
    const now = Date.now();
    // No array built for the usual single candidate: this runs once per call.
    let only: ServiceInstance | undefined;
    let candidates: ServiceInstance[] | undefined;
    for (const i of this.options.discovery.instances(service)) {
      if (i.id === first || tried?.has(i.id)) continue;
      const t = this.target(i, now);
      if (t.ejectedUntil > now || !t.breaker.admits()) continue;
      if (only === undefined) only = i;
      else (candidates ??= [only]).push(i);
    }
    if (!candidates) return only;
    switch (this.options.balancer ?? 'round-robin') {
      case 'weighted':
        return this.pickWeighted(candidates);
      case 'least-outstanding':
        return this.pickLeastOutstanding(service, candidates);
      default:
        return candidates[this.nextIndex(service) % candidates.length];
    }
  }

  private nextIndex(service: string): number {
    const n = this.rr.get(service) ?? 0;
    this.rr.set(service, (n + 1) % Number.MAX_SAFE_INTEGER);
    return n;
  }

  /** nginx's smooth weighted round-robin: even spread, exact shares over sum(weights) picks. */
  private pickWeighted(candidates: ServiceInstance[]): ServiceInstance {
    let total = 0;
    let best: ServiceInstance = candidates[0];
    let bestTarget: Target | undefined;
    for (const instance of candidates) {
      const t = this.target(instance);
      t.weightCurrent += instance.weight;
      total += instance.weight;
      if (!bestTarget || t.weightCurrent > bestTarget.weightCurrent) {
        best = instance;
        bestTarget = t;
      }
    }
    bestTarget!.weightCurrent -= total;
    return best;
  }

  private pickLeastOutstanding(service: string, candidates: ServiceInstance[]): ServiceInstance {
    const start = this.nextIndex(service) % candidates.length;
    let best = candidates[start];
    for (let k = 1; k < candidates.length; k++) {
      const c = candidates[(start + k) % candidates.length];
      if (this.target(c).inflight < this.target(best).inflight) best = c;
    }
    return best;
  }

  private target(instance: ServiceInstance, now = Date.now()): Target {
    // Instance records are immutable and replaced on change, so the object itself caches its target.
    const cached = this.byInstance.get(instance);
    if (cached && this.targets.get(cached.key) === cached) {
      cached.lastUsed = now;
      return cached;
    }
    const key = targetKey(instance);
    let t = this.targets.get(key);
    if (!t) {
      const origin = `http://${instance.host.includes(':') ? `[${instance.host}]` : instance.host}:${instance.port}`;
      const b = this.options.breaker ?? {};
      const breaker = new Breaker({
        errorThresholdPercentage: b.errorThresholdPercentage ?? 50,
        volumeThreshold: b.volumeThreshold ?? 5,
        resetTimeoutMs: b.resetTimeoutMs ?? 5000,
        rollingWindowMs: b.rollingWindowMs ?? 10_000,
        onOpen: () => this.options.logger?.warn({ target: key }, 'circuit opened'),
        onClose: () => this.options.logger?.info({ target: key }, 'circuit closed'),
      });
      const pool = new Pool(origin, {
        connections: this.options.connectionsPerInstance ?? 64,
        keepAliveTimeout: 30_000,
        connect: { timeout: Math.min(this.timeoutMs, 2000) },
      });
      t = { key, origin, pool, breaker, inflight: 0, weightCurrent: 0, lastUsed: now, ejectedUntil: 0 };
      this.targets.set(key, t);
    }
    t.lastUsed = now;
    this.byInstance.set(instance, t);
    return t;
  }

  private async attempt(
    service: string,
    instance: ServiceInstance,
    method: string,
    request: ServiceRequest,
    attempts: number,
    timeout: number,
  ): Promise<ServiceResponse> {
    const t = this.target(instance);
    const started = performance.now();
    const headers = outgoingHeaders(request);
    const body = request.json !== undefined ? JSON.stringify(request.json) : request.body;
    // Counted in the breaker's window from here on (a half-open breaker's single probe taken).
    if (!t.breaker.tryAcquire()) {
      this.report(service, instance, 'breaker_open', started);
      throw new BreakerOpenError(service);
    }
    // One client span per attempt, its context in the request's traceparent (replacing any the
    // caller passed on: the callee's parent is this attempt). Off: one boolean check.
    const tr = tracing();
    const span = tr.enabled ? clientSpan(tr, service, instance, method, request.path, attempts) : undefined;
    if (span) {
      delete headers[TRACEPARENT];
      delete headers[TRACESTATE];
      tr.inject(headers as Record<string, string>, span);
    }
    t.inflight += 1;
    const exchange = new Exchange(t, instance, method, request, headers, body, attempts, timeout, this.failureStatuses);
    try {
      const res = await exchange.send();
      t.breaker.success();
      this.report(service, instance, 'ok', started);
      if (span) {
        span.setAttribute('http.response.status_code', res.statusCode);
        span.end();
      }
      return res;
    } catch (err) {
      t.breaker.failure();
      if (span) {
        if (err instanceof FailureStatusError) span.setAttribute('http.response.status_code', err.response.statusCode);
        span.fail(err);
        span.end();
      }
      // A failing answer's body still holds the instance until it is read or dropped.
      if (!(err instanceof FailureStatusError)) exchange.release();
      if (neverReached(err) && t.ejectedUntil <= Date.now()) {
        t.ejectedUntil = Date.now() + this.ejectMs;
        this.options.logger?.warn({ target: t.key, err: (err as Error & { code?: string }).code, ms: this.ejectMs }, 'instance refused a connection: ejected');
      }
      this.report(service, instance, classify(err as Error), started);
      throw err;
    }
  }

  private report(service: string, instance: ServiceInstance, outcome: string, started: number): void {
    this.options.onAttempt?.({ service, instance, outcome, durationMs: performance.now() - started });
  }

  /** Drops pools and breakers of instances gone from discovery for a while. */
  private prune(): void {
    const cutoff = Date.now() - 60_000;
    for (const [key, t] of this.targets) {
      if (t.lastUsed < cutoff && t.inflight === 0) {
        this.targets.delete(key);
        t.breaker.shutdown();
        void t.pool.close().catch(() => undefined);
      }
    }
  }
}

/** Drops a failing answer kept for the caller once another attempt answered. */
async function dropFailure(failure: FailureStatusError): Promise<void> {
  await failure.response.body.dump().catch(() => undefined);
}

/**
 * undici's own timeout for an attempt of `timeoutMs`: the whole seconds above it, plus one. undici's
 * timers tick every ~0.5 s and may fire that much early, so the wait for the headers is bounded by
 * the attempt's precise timer and undici's only backs it up (and bounds the gaps between body
 * chunks). One value for headers and body, the same for every attempt of the same timeout: undici
 * then refreshes each connection's timer. Two values, or a value that changed with the time left,
 * made it create two timers per request, which stayed in its timer list up to 0.5 s after being
 * cleared: promoted to the old generation, they brought a 5 to 15 ms mark-compact every few seconds
 * at a few thousand requests a second (the gateway's p99 at a fixed rate).
 */
export function undiciTimeout(timeoutMs: number): number {
  return (Math.ceil(timeoutMs / 1000) + 1) * 1000;
}

function onExchangeTimeout(exchange: Exchange): void {
  exchange.abort(new HeadersTimeoutError(exchange.timeout));
}

/**
 * One request on an instance's pool, resolved at the answer's headers (rejected with
 * {@link FailureStatusError} for a failure status that does not say a dependency is down). It is
 * undici's dispatch handler and the caller's abort listener at once, so an
 * attempt costs one object. undici's own headers timeout ticks at about 1 s granularity: the wait
 * for the headers has a precise timer of its own (budgets nest by a second or less). The caller's
 * signal aborts the request, body included. The instance's in-flight count drops when the body is
 * done (read, dropped or broken off) or the attempt failed.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private reason: Error | undefined;
  private response: ResponseBody | undefined;
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private resolve!: (response: ServiceResponse) => void;
  private reject!: (err: Error) => void;

  constructor(
    private readonly t: Target,
    private readonly instance: ServiceInstance,
    private readonly method: string,
    private readonly request: ServiceRequest,
    private readonly headers: Record<string, string | string[]>,
    private readonly body: string | Buffer | undefined,
    private readonly attempts: number,
    readonly timeout: number,
    private readonly failureStatuses: ReadonlySet<number>,
  ) {}

  send(): Promise<ServiceResponse> {
    return new Promise<ServiceResponse>((resolve, reject) => {
      const signal = this.request.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.resolve = resolve;
      this.reject = reject;
      this.timer = setTimeout(onExchangeTimeout, this.timeout, this);
      signal?.addEventListener('abort', this, { once: true });
      const backstop = undiciTimeout(this.timeout);
      this.t.pool.dispatch(
        { method: this.method as Dispatcher.HttpMethod, path: this.request.path, headers: this.headers, body: this.body, headersTimeout: backstop, bodyTimeout: backstop },
        this,
      );
    });
  }

  /** The instance has one call less (once). */
  release(): void {
    if (!this.released) {
      this.released = true;
      this.t.inflight -= 1;
    }
  }

  abort(why: Error): void {
    if (this.reason) return;
    this.reason = why;
    // Not on a connection yet (queued in the pool): give up now; it is dropped when dequeued.
    if (this.controller) this.controller.abort(why);
    else if (!this.response) {
      this.finish();
      this.reject(why);
    }
  }

  /** The caller's signal fired (EventListener object). */
  handleEvent(): void {
    this.abort(this.request.signal!.reason as Error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // informational (100 Continue): the answer follows
    clearTimeout(this.timer);
    const response = (this.response = new ResponseBody(controller));
    const answer: ServiceResponse = { statusCode, headers, body: response, instance: this.instance, attempts: this.attempts };
    if (this.failureStatuses.has(statusCode) && headers[DEPENDENCY_UNAVAILABLE_HEADER] === undefined) this.reject(new FailureStatusError(answer));
    else this.resolve(answer);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.response!.push(chunk);
  }

  onResponseEnd(): void {
    this.finish();
    this.response!.end();
    this.release();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.finish();
    if (this.response) {
      this.response.fail(this.reason ?? err);
      this.release();
    } else this.reject(this.reason ?? err);
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.request.signal?.removeEventListener('abort', this);
  }
}

/** The span of one attempt: `GET catalog`, with the instance and the path (no query string: it may carry personal data). */
function clientSpan(
  tr: Tracing,
  service: string,
  instance: ServiceInstance,
  method: string,
  path: string,
  attempt: number,
): TraceSpan {
  const q = path.indexOf('?');
  return tr.startSpan(`${method} ${service}`, {
    kind: 'client',
    attributes: {
      'peer.service': service,
      'http.request.method': method,
      'url.path': q < 0 ? path : path.slice(0, q),
      'server.address': instance.host,
      'server.port': instance.port,
      'service.instance.id': instance.id,
      ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
    },
  });
}

function hasHeader(headers: ServiceRequest['headers'], name: string): boolean {
  if (!headers) return false;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k.toLowerCase() === name) return true;
  return false;
}

function targetKey(instance: ServiceInstance): string {
  return `${instance.service}/${instance.id}@${instance.host}:${instance.port}`;
}

function outgoingHeaders(request: ServiceRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const headers = request.headers ?? {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    out[lower] = value;
  }
  if (request.json !== undefined) out['content-type'] = 'application/json';
  return out;
}

function classify(err: Error & { code?: string }): string {
  if (err instanceof FailureStatusError) return `status_${err.response.statusCode}`;
  switch (err.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'connect';
    default:
      return 'error';
  }
}
