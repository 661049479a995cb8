import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { loadKitConfig, type KitConfig } from './config';
import { Health, type ReadinessCheck } from './health';
import { REQUEST_ID_HEADER, readIdentity } from './identity';
import { createLogger } from './logger';
import { createMetrics, type HttpMetrics } from './metrics';
import { RegistryClient, type ServiceInstance } from './registry';
import { ServiceClient, type ServiceClientOptions } from './service-client';
import { GracefulShutdown } from './shutdown';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields to add to this request's access log line (and the gateway's metrics labels). */
    accessLog: Record<string, unknown> | null;
  }
}

/** What a service gets to build its routes with. */
export interface ServiceContext {
  readonly name: string;
  /** This instance's id (INSTANCE_ID, or host-pid-random). */
  readonly instanceId: string;
  readonly config: KitConfig;
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
  /** Service client options besides discovery. @default from config */
  readonly client?: Partial<Omit<ServiceClientOptions, 'discovery'>>;
  /** Instance metadata published in the registry. @default {} */
  readonly metadata?: Record<string, string>;
  /** Log destination (tests). @default stdout */
  readonly logDestination?: import('pino').DestinationStream;
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

/** fastify's client-error codes, as the stable names clients see in `error`. */
const CLIENT_ERROR_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_content_length',
  FST_ERR_VALIDATION: 'invalid_request',
};

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
  const log = createLogger({ service: def.name, instance: instanceId, level: config.LOG_LEVEL, destination: def.logDestination });
  const metrics = createMetrics({ service: def.name });
  const health = new Health();
  const registry = config.REGISTRY_ENABLED
    ? new RegistryClient({ endpoints: config.ETCD_ENDPOINTS, ttlSeconds: config.REGISTRY_TTL_SECONDS, root: config.REGISTRY_ROOT, logger: log })
    : undefined;
  const client = new ServiceClient({
    discovery: registry ?? { instances: () => [] },
    balancer: config.BALANCER,
    timeoutMs: config.CLIENT_TIMEOUT_MS,
    retries: config.CLIENT_RETRIES,
    logger: log,
    ...def.client,
  });

  const app = Fastify({
    loggerInstance: log,
    // One access line per request from our onResponse hook instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers[REQUEST_ID_HEADER];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
    bodyLimit: config.BODY_LIMIT_BYTES,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ...def.fastify,
  });

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
  shutdown.onClose('registry', () => registry?.close());
  shutdown.onClose('service client', () => client.close());

  app.addHook('onRequest', (req, reply, done) => {
    inflight += 1;
    reply.raw.once('close', () => {
      inflight -= 1;
    });
    reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
    if (route !== '/healthz' && route !== '/readyz' && route !== '/metrics' && log.isLevelEnabled('info')) {
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
    done();
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(status).send({
      error: status >= 500 ? 'internal_error' : (CLIENT_ERROR_CODES[err.code] ?? err.code ?? 'bad_request'),
      message: status >= 500 ? 'Internal error' : err.message,
      requestId: req.id,
    });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: 'not_found', message: `No route for ${req.method} ${req.url.split('?')[0]}`, requestId: req.id });
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

  const ctx: ServiceContext = { name: def.name, instanceId, config, log, metrics, health, registry, client, shutdown };
  if (registry) {
    await registry.discover();
    if (def.watchConfig) await registry.watchConfig(def.name);
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
      log.info({ url, registered: listed }, 'service started');
      return instance;
    },
    stop: () => shutdown.run('stop'),
    handleSignals: () => shutdown.handleSignals(),
  };
}
