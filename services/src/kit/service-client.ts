import type { IncomingHttpHeaders } from 'node:http';
import CircuitBreaker from 'opossum';
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { ServiceInstance } from './registry';

/** Where the client finds instances: a {@link RegistryClient} after `discover()`, or a stub in tests. */
export interface Discovery {
  instances(service: string): ServiceInstance[];
}

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
  /** May be retried on another instance. @default true for GET, HEAD, OPTIONS, PUT, DELETE */
  readonly idempotent?: boolean;
  /** Per-attempt timeout to response headers (and between body chunks), ms. @default client's */
  readonly timeoutMs?: number;
  /** Abort the whole call (all attempts). */
  readonly signal?: AbortSignal;
}

/** A response, body not yet read (read it, or call `body.dump()`). */
export interface ServiceResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Dispatcher.ResponseData['body'];
  /** The instance that answered (undefined when a fallback answered). */
  readonly instance?: ServiceInstance;
  /** Attempts made, retries included. */
  readonly attempts: number;
}

/** Called when every attempt failed: return a substitute response, or throw. */
export type Fallback = (service: string, request: ServiceRequest, error: Error) => Promise<ServiceResponse> | ServiceResponse;

/** Options of {@link ServiceClient}. */
export interface ServiceClientOptions {
  readonly discovery: Discovery;
  /** @default 'round-robin' */
  readonly balancer?: BalancerKind;
  /** Per-attempt timeout, ms. @default 5000 */
  readonly timeoutMs?: number;
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
  /** 'ok', a failure status as 'status_503', 'timeout', 'connect' or 'error', or 'breaker_open'. */
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

/** Every instance of the service has an open breaker: the call was not attempted. */
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
  readonly breaker: CircuitBreaker<[() => Promise<ServiceResponse>], ServiceResponse>;
  inflight: number;
  weightCurrent: number;
  lastUsed: number;
}

/**
 * Calls other services by name, the way Ribbon + Feign do: picks a healthy instance from the
 * discovery table (round-robin, smooth weighted, or least outstanding requests), keeps a keep-alive
 * undici pool and an opossum breaker per instance, times attempts out, retries idempotent requests
 * on another instance, and calls a fallback when everything failed.
 */
export class ServiceClient {
  private readonly targets = new Map<string, Target>();
  private readonly byInstance = new WeakMap<ServiceInstance, Target>();
  private readonly rr = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly failureStatuses: ReadonlySet<number>;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly options: ServiceClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
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
    const idempotent = request.idempotent ?? IDEMPOTENT.has(method);
    const maxAttempts = idempotent ? 1 + this.retries : 1;
    const tried = new Set<string>();
    let lastError: Error | undefined;
    // A failing answer is kept until another instance is there to retry on: if none is, it is the answer.
    let lastFailure: FailureStatusError | undefined;
    let attempts = 0;
    while (attempts < maxAttempts) {
      const instance = this.pick(service, tried);
      if (!instance) {
        lastError ??= this.options.discovery.instances(service).length === 0 ? new NoInstanceError(service) : new BreakerOpenError(service);
        break;
      }
      if (lastFailure) {
        await lastFailure.response.body.dump().catch(() => undefined);
        lastFailure = undefined;
      }
      tried.add(instance.id);
      attempts += 1;
      try {
        return await this.attempt(service, instance, method, request, attempts);
      } catch (err) {
        lastError = err as Error;
        const retry = idempotent && attempts < maxAttempts && !request.signal?.aborted;
        if (err instanceof FailureStatusError) {
          if (!retry) return err.response;
          lastFailure = err;
        }
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

  private pick(service: string, tried: ReadonlySet<string>): ServiceInstance | undefined {
    const candidates = this.options.discovery
      .instances(service)
      .filter((i) => !tried.has(i.id) && admits(this.target(i).breaker));
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
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

  private target(instance: ServiceInstance): Target {
    // Instance records are immutable and replaced on change, so the object itself caches its target.
    const cached = this.byInstance.get(instance);
    if (cached && this.targets.get(cached.key) === cached) {
      cached.lastUsed = Date.now();
      return cached;
    }
    const key = targetKey(instance);
    let t = this.targets.get(key);
    if (!t) {
      const origin = `http://${instance.host.includes(':') ? `[${instance.host}]` : instance.host}:${instance.port}`;
      const b = this.options.breaker ?? {};
      const breaker = new CircuitBreaker((fn: () => Promise<ServiceResponse>) => fn(), {
        name: key,
        timeout: false,
        errorThresholdPercentage: b.errorThresholdPercentage ?? 50,
        volumeThreshold: b.volumeThreshold ?? 5,
        resetTimeout: b.resetTimeoutMs ?? 5000,
        rollingCountTimeout: b.rollingWindowMs ?? 10_000,
        rollingPercentilesEnabled: false,
      });
      breaker.on('open', () => this.options.logger?.warn({ target: key }, 'circuit opened'));
      breaker.on('close', () => this.options.logger?.info({ target: key }, 'circuit closed'));
      const pool = new Pool(origin, {
        connections: this.options.connectionsPerInstance ?? 64,
        keepAliveTimeout: 30_000,
        connect: { timeout: Math.min(this.timeoutMs, 2000) },
      });
      t = { key, origin, pool, breaker, inflight: 0, weightCurrent: 0, lastUsed: Date.now() };
      this.targets.set(key, t);
    }
    t.lastUsed = Date.now();
    this.byInstance.set(instance, t);
    return t;
  }

  private async attempt(
    service: string,
    instance: ServiceInstance,
    method: string,
    request: ServiceRequest,
    attempts: number,
  ): Promise<ServiceResponse> {
    const t = this.target(instance);
    const started = performance.now();
    const report = (outcome: string): void =>
      this.options.onAttempt?.({ service, instance, outcome, durationMs: performance.now() - started });
    if (!admits(t.breaker)) {
      report('breaker_open');
      throw new BreakerOpenError(service);
    }
    const headers = outgoingHeaders(request);
    const body = request.json !== undefined ? JSON.stringify(request.json) : request.body;
    const timeout = request.timeoutMs ?? this.timeoutMs;
    t.inflight += 1;
    let released = false;
    const release = (): void => {
      if (!released) {
        released = true;
        t.inflight -= 1;
      }
    };
    try {
      const res = await t.breaker.fire(async () => {
        const r = await t.pool.request({
          method: method as Dispatcher.HttpMethod,
          path: request.path,
          headers,
          body,
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: request.signal,
        });
        const response: ServiceResponse = { statusCode: r.statusCode, headers: r.headers, body: r.body, instance, attempts };
        // The body emits close once read to the end, destroyed, or dumped.
        r.body.once('close', release);
        if (this.failureStatuses.has(r.statusCode)) throw new FailureStatusError(response);
        return response;
      });
      report('ok');
      return res;
    } catch (err) {
      if (!(err instanceof FailureStatusError)) release();
      const outcome = classify(err as Error);
      report(outcome);
      if (outcome === 'breaker_open') throw new BreakerOpenError(service);
      throw err;
    }
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

/** Closed, or half-open with its single probe not yet sent (opossum rejects everything else). */
function admits(breaker: { readonly closed: boolean; readonly pendingClose: boolean }): boolean {
  return breaker.closed || breaker.pendingClose;
}

function targetKey(instance: ServiceInstance): string {
  return `${instance.service}/${instance.id}@${instance.host}:${instance.port}`;
}

function outgoingHeaders(request: ServiceRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
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
  if (err.code === 'EOPENBREAKER') return 'breaker_open';
  switch (err.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return 'connect';
    default:
      return 'error';
  }
}
