import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { budgets as budgetsOf, loadKitConfig, type Budgets, type KitConfig } from './config';
import { Health, type ReadinessCheck } from './health';
import { REQUEST_ID_HEADER, dropReservedHeaders, identityHeaders, readIdentity } from './identity';
import { KeysUnavailableError, type TokenVerifier } from './jwt';
import { createLogger } from './logger';
import { Counter, createMetrics, type HttpMetrics } from './metrics';
import { RegistryClient, type ServiceInstance } from './registry';
import { errorPayload, replyDependencyUnavailable, replyError } from './replies';
import { ServiceClient, type ServiceClientOptions } from './service-client';
import { RequestIds } from './request-id';
import { traceRequests } from './request-tracing';
import { GracefulShutdown } from './shutdown';
import { startTracing } from './tracing';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields to add to this request's access log line (and the gateway's metrics labels). */
    accessLog: Record<string, unknown> | null;
  }
}

/** The service client's options a service may set (discovery is the kit's). */
export type ClientOptions = Partial<Omit<ServiceClientOptions, 'discovery'>>;

/** What a service gets to build its routes with. */
export interface ServiceContext {
  readonly name: string;
  /** This instance's id (INSTANCE_ID, or host-pid-random). */
  readonly instanceId: string;
  readonly config: KitConfig;
  /** The waits inside one request (shares of REQUEST_BUDGET_MS); see `budgets` in config.ts. */
  readonly budgets: Budgets;
  readonly log: Logger;
  readonly metrics: HttpMetrics;
  readonly health: Health;
  /** The etcd registry (undefined when REGISTRY_ENABLED=false). Discovery is already loaded. */
  readonly registry?: RegistryClient;
  /** Calls other services by name (discovery from the registry). */
  readonly client: ServiceClient;
  /** Add resources to close on shutdown: `ctx.shutdown.onClose('mysql', () => pool.end())`. */
  readonly shutdown: GracefulShutdown;
}

/** Definition passed to {@link createService}. */
export interface ServiceDefinition {
  /** Service name: registry key, log and metric label. */
  readonly name: string;
  /** @default loadKitConfig() from process.env */
  readonly config?: KitConfig;
  /** Adds the service's routes, hooks and readiness checks. */
  readonly routes: (app: FastifyInstance, ctx: ServiceContext) => void | Promise<void>;
  /** Publish this instance in the registry on start. @default true (when the registry is enabled) */
  readonly register?: boolean;
  /** Watch dynamic config `/registry/config/<name>/`. @default false */
  readonly watchConfig?: boolean;
  /** Readiness checks besides etcd. @default none */
  readonly checks?: Record<string, ReadinessCheck>;
  /** Extra fastify options (merged over the kit's). @default none */
  readonly fastify?: Partial<FastifyServerOptions>;
  /**
   * Service client options besides discovery, or a function of the service's metrics that returns
   * them (an `onAttempt` hook recording into the service's registry). @default from config
   */
  readonly client?: ClientOptions | ((metrics: HttpMetrics) => ClientOptions);
  /** Instance metadata published in the registry. @default {} */
  readonly metadata?: Record<string, string>;
  /** Log destination (tests). @default stdout */
  readonly logDestination?: import('pino').DestinationStream;
  /**
   * Answer every request within REQUEST_BUDGET_MS (a 503 with Retry-After past it) and bound calls
   * to other services by its share. The gateway turns it off: its CLIENT_TIMEOUT_MS bounds it.
   * @default true
   */
  readonly requestBudget?: boolean;
  /**
   * Verifies the bearer token of every request and sets the identity headers from it alone: any
   * `x-user-*` / `x-auth-*` header a caller sent is dropped first, so an instance reached directly
   * trusts no asserted identity. Without it the identity headers are trusted as they come (the
   * gateway, which sets them, and the echo test service). @default none
   */
  readonly tokens?: (ctx: ServiceContext) => TokenVerifier | Promise<TokenVerifier>;
}

/** A created service: start it, stop it, or reach into its parts. */
export interface Service {
  readonly app: FastifyInstance;
  readonly ctx: ServiceContext;
  /** Listens and registers; resolves with the instance record. */
  start(): Promise<ServiceInstance>;
  /** Graceful shutdown (see {@link GracefulShutdown}) without exiting the process. */
  stop(): Promise<void>;
  /** Stops on SIGTERM / SIGINT and exits 0. */
  handleSignals(): void;
  /** `http://host:port` once started. */
  readonly url: string;
  /** In-flight requests now. */
  readonly inflight: number;
}

/** fastify's client-error codes, as the stable names and messages clients see (never fastify's text, which may echo input). */
const FRAMEWORK_ERRORS: Record<string, [error: string, message: string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['malformed_json', 'The request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['malformed_json', 'The request body is empty but says it is JSON'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['body_too_large', 'The request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'This content type is not accepted'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_content_length', 'The content-length does not match the body'],
  FST_ERR_BAD_URL: ['bad_request', 'The request path is not a valid URL'],
  FST_ERR_MAX_PARAM_LENGTH: ['uri_too_long', 'A segment of the request path is too long'],
  FST_ERR_HANDLER_TIMEOUT: ['service_unavailable', 'The service could not answer in time. Please try again in a moment.'],
};

/** Answers by status, for errors that carry no stable name of their own. */
const STATUS_ERRORS: Record<number, [error: string, message: string]> = {
  400: ['bad_request', 'The request is not valid'],
  404: ['not_found', 'Not found'],
  405: ['method_not_allowed', 'This method is not allowed here'],
  406: ['not_acceptable', 'No acceptable representation'],
  408: ['request_timeout', 'The request did not arrive in time'],
  413: ['body_too_large', 'The request body is too large'],
  414: ['uri_too_long', 'The request path is too long'],
  415: ['unsupported_media_type', 'This content type is not accepted'],
  431: ['headers_too_large', 'The request headers are too large'],
  503: ['service_unavailable', 'The service is temporarily unavailable. Please try again in a moment.'],
};

/** The platform's error body for `err`: `{ error, message }` with a stable name and nothing echoed from the request. */
export function errorBody(err: FastifyError | (Error & { statusCode?: number; code?: string; validation?: unknown })): { status: number; error: string; message: string } {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  const known = err.code ? FRAMEWORK_ERRORS[err.code] : undefined;
  if (known) return { status, error: known[0], message: known[1] };
  if (err.code === 'FST_ERR_VALIDATION' || (err as { validation?: unknown }).validation) return { status, error: 'invalid_request', message: err.message };
  if (status >= 500 && status !== 503) return { status, error: 'internal_error', message: 'Internal error' };
  const generic = STATUS_ERRORS[status] ?? (status >= 500 ? STATUS_ERRORS[503] : STATUS_ERRORS[400]);
  // fastify's own codes and messages stay inside; an error the code threw on purpose keeps its own.
  if (!err.code || err.code.startsWith('FST_') || err.code.startsWith('ERR_') || status >= 500) return { status, error: generic[0], message: generic[1] };
  return { status, error: err.code, message: err.message };
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds a fastify service with everything the platform expects: JSON logs with request id
 * (`x-request-id` honoured or generated, echoed back), one access log line per request,
 * `/metrics`, `/healthz`, `/readyz`, registry registration + discovery, a service client, JSON
 * errors that never leak a 5xx's internals, and graceful shutdown in the order of {@link GracefulShutdown}.
 */
export async function createService(def: ServiceDefinition): Promise<Service> {
  const config = def.config ?? loadKitConfig();
  const instanceId = config.INSTANCE_ID ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  // Off (the default), this loads nothing and every hook below stays out of the request path.
  const tr = await startTracing({ service: def.name, instance: instanceId, version: config.SERVICE_VERSION, config });
  const log = createLogger({
    service: def.name, instance: instanceId, level: config.LOG_LEVEL, destination: def.logDestination,
    ...(tr.enabled ? { traceFields: () => tr.logFields() } : {}),
  });
  const metrics = createMetrics({ service: def.name });
  const budgeted = def.requestBudget !== false;
  const budgets = budgetsOf(config.REQUEST_BUDGET_MS);
  const health = new Health(budgets.readinessCheckMs);
  const registry = config.REGISTRY_ENABLED
    ? new RegistryClient({ endpoints: config.ETCD_ENDPOINTS, ttlSeconds: config.REGISTRY_TTL_SECONDS, root: config.REGISTRY_ROOT, logger: log })
    : undefined;
  if (registry) {
    // No labels, so it reads 0 from the start: the RegistryLeaseLost alert sees the first loss.
    const leaseLost = new Counter({ name: 'registry_lease_lost_total', help: 'Registry leases this instance lost (it dropped out of discovery and registers again).', registers: [metrics.registry] });
    registry.on('lost', () => leaseLost.inc());
  }
  const client = new ServiceClient({
    discovery: registry ?? { instances: () => [] },
    balancer: config.BALANCER,
    // A service's calls fit in its request budget; the gateway's upstream call is bounded as a whole.
    timeoutMs: budgeted ? Math.min(config.CLIENT_TIMEOUT_MS, budgets.callMs) : config.CLIENT_TIMEOUT_MS,
    deadlineMs: budgeted ? budgets.callMs : config.CLIENT_TIMEOUT_MS,
    retries: config.CLIENT_RETRIES,
    logger: log,
    ...(typeof def.client === 'function' ? def.client(metrics) : def.client),
  });

  const requestIds = new RequestIds();
  const app = Fastify({
    loggerInstance: log,
    // One access line per request from our onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers[REQUEST_ID_HEADER];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : requestIds.next();
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...(budgeted ? { handlerTimeout: budgets.requestMs } : {}),
    // Errors the router raises before any hook (bad URL encoding, an over-long path parameter).
    frameworkErrors: (err, req, reply) => {
      void sendError(req, reply, err);
    },
    // What the HTTP parser refuses never becomes a request: answered on the socket, same shape.
    clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const [error, message] = STATUS_ERRORS[status];
      const requestId = requestIds.next();
      const body = JSON.stringify(errorPayload(error, message, requestId));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : status === 408 ? 'Request Timeout' : 'Request Header Fields Too Large'}\r\n` +
            `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy();
    },
    ...def.fastify,
  });

  function sendError(req: FastifyRequest, reply: FastifyReply, err: FastifyError): FastifyReply {
    const { status, error, message } = errorBody(err);
    if (status >= 500 && error === 'internal_error') req.log.error({ err }, 'request failed');
    if (status === 503) reply.header('retry-after', '1');
    return replyError(reply.header(REQUEST_ID_HEADER, req.id), status, error, message);
  }

  app.decorateRequest('accessLog', null);
  let inflight = 0;
  let url = '';
  let instance: ServiceInstance | undefined;
  const publish = registry !== undefined && def.register !== false;
  let listed = false;
  let readinessTimer: NodeJS.Timeout | undefined;
  const shutdown = new GracefulShutdown({
    deregister: async () => {
      clearInterval(readinessTimer);
      await registry?.deregister();
    },
    markNotReady: () => health.startShutdown(),
    inflight: () => inflight,
    closeServer: () => app.close(),
    graceMs: config.SHUTDOWN_GRACE_MS,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    logger: log,
  });
  // Closed last (added first): the spans of the shutdown itself are flushed too.
  shutdown.onClose('tracing', () => tr.shutdown());
  shutdown.onClose('registry', () => registry?.close());
  shutdown.onClose('service client', () => client.close());

  if (tr.enabled) traceRequests(app, tr);
  // A response emits 'close' once, whether it finished or the client went away.
  const responseClosed = (): void => {
    inflight -= 1;
  };
  app.addHook('onRequest', (req, reply, done) => {
    inflight += 1;
    reply.raw.on('close', responseClosed);
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    if (config.REQUEST_METRICS) {
      const status = String(reply.statusCode);
      metrics.requests.inc(req.method, route, status);
      metrics.duration.observe(reply.elapsedTime / 1000, req.method, route, status);
    }
    if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics' && log.isLevelEnabled('info')) {
      // onResponse runs outside the request's context: the access line enters its span for trace_id.
      if (req.span) tr.withSpan(req.span, () => accessLine(req, reply, route));
      else accessLine(req, reply, route);
    }
    done();
  });
  function accessLine(req: FastifyRequest, reply: FastifyReply, route: string): void {
    req.log.info(
      {
        method: req.method,
        url: req.url,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: req.ip,
        user: readIdentity(req.headers)?.userId,
        ...req.accessLog,
      },
      'request',
    );
  }
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_HANDLER_TIMEOUT') req.log.warn({ route: req.routeOptions.url }, 'request budget exhausted: answered 503');
    void sendError(req, reply, err);
  });
  app.setNotFoundHandler((req, reply) => {
    void replyError(reply, 404, 'not_found', `No route for ${req.method} on this path`);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const report = await health.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // Reported, not critical: with etcd down an instance keeps serving from its discovery table and
  // re-registers when etcd is back; failing readiness would turn an etcd outage into a full one.
  if (registry) health.addCheck('etcd', () => registry.ping(), { critical: false });
  for (const [name, check] of Object.entries(def.checks ?? {})) health.addCheck(name, check);

  const ctx: ServiceContext = { name: def.name, instanceId, config, budgets, log, metrics, health, registry, client, shutdown };
  if (registry) {
    await registry.discover();
    if (def.watchConfig) await registry.watchConfig(def.name);
  }
  if (def.tokens) {
    const verifier = await def.tokens(ctx);
    app.addHook('onRequest', async (req, reply) => {
      dropReservedHeaders(req.headers);
      const authorization = req.headers.authorization;
      if (!authorization) return;
      try {
        Object.assign(req.headers, identityHeaders(await verifier.verify(authorization)));
      } catch (err) {
        // A token that does not verify is no identity (protected routes answer 401). Keys that
        // cannot be had are not the caller's fault: a 503 where an identity may be needed.
        if (err instanceof KeysUnavailableError && !req.url.startsWith('/public/')) {
          req.log.warn({ err: err.message }, 'no key to verify the token with');
          return replyDependencyUnavailable(reply, 'keys', 'Sign-in cannot be checked right now. Please try again in a moment.');
        }
      }
    });
  }
  await def.routes(app, ctx);

  async function followReadiness(): Promise<void> {
    if (!instance || !registry || shutdown.started) return;
    const report = await health.readiness();
    if (shutdown.started) return;
    if (!report.ready && listed) {
      listed = false;
      await registry.deregister();
      log.warn({ checks: report.checks }, 'not ready: left the registry until ready again');
    } else if (report.ready && !listed) {
      await registry.register(instance);
      listed = true;
      log.info('ready: registered');
    }
  }

  return {
    app,
    ctx,
    get url() {
      return url;
    },
    get inflight() {
      return inflight;
    },
    async start() {
      await app.listen({ port: config.PORT, host: config.HOST });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      url = `http://${config.ADVERTISE_HOST}:${port}`;
      instance = {
        id: instanceId,
        service: def.name,
        host: config.ADVERTISE_HOST,
        port,
        version: config.SERVICE_VERSION,
        zone: config.ZONE,
        weight: config.WEIGHT,
        metadata: def.metadata ?? {},
        startedAt: new Date().toISOString(),
      };
      if (publish) {
        // Registration follows readiness: an instance whose critical checks fail leaves the
        // registry (gateways stop routing to it at once) and comes back when they pass again.
        if (config.READINESS_POLL_MS === 0 || (await health.readiness()).ready) {
          await registry!.register(instance);
          listed = true;
        }
        if (config.READINESS_POLL_MS > 0) {
          let polling = false;
          readinessTimer = setInterval(() => {
            if (polling) return;
            polling = true;
            followReadiness()
              .catch((err) => log.warn({ err: (err as Error).message }, 'readiness poll failed'))
              .finally(() => (polling = false));
          }, config.READINESS_POLL_MS).unref();
        }
      }
      if (config.METRICS_PORT > 0) {
        const scrape = createServer((req, res) => {
          if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
            res.writeHead(404).end();
            return;
          }
          metrics.registry.metrics().then(
            (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
            (err: Error) => res.writeHead(500).end(err.message),
          );
        });
        await new Promise<void>((resolve, reject) => {
          scrape.once('error', reject).listen(config.METRICS_PORT, config.HOST, () => resolve());
        });
        shutdown.onClose('metrics listener', () => new Promise<void>((resolve) => {
          scrape.closeAllConnections();
          scrape.close(() => resolve());
        }));
      }
      log.info({ url, registered: listed, ...(config.METRICS_PORT > 0 ? { metricsPort: config.METRICS_PORT } : {}) }, 'service started');
      return instance;
    },
    stop: () => shutdown.run('stop'),
    handleSignals: () => shutdown.handleSignals(),
  };
}
