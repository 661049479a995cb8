/**
 * Data clients for a kit service, wired into its readiness checks and shutdown, plus the mapping
 * of "a dependency is down" errors to a friendly 503 (the process stays up and recovers on its own).
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyError, FastifyInstance } from 'fastify';
import { createRedisCluster, loadConfig, type Cluster, type ServiceContext } from '../kit';
import { BreakerOpenError, NoInstanceError, ServiceHttpError, FailureStatusError } from '../kit';
import { createMysqlPool, mysqlSettingsFromEnv, type Pool } from './mysql';
import { createOpenSearchClient } from './opensearch';
import { ProductSearchIndex } from './product-search';
import { searchIndexEnv } from './settings';
import { ensureSchema } from './schema';
import { UploadStore } from './uploads';
import { LockTimeoutError } from './redis-lock';

/** Thrown while the schema is not migrated yet (MySQL was down at start). */
export class NotReadyError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} is not ready yet`);
    this.name = 'NotReadyError';
  }
}

export interface MysqlHandle {
  readonly pool: Pool;
  /** Resolves once migrations ran; rejects never (retries in the background until shutdown). */
  readonly migrated: Promise<void>;
  isMigrated(): boolean;
}

/**
 * A pool, with migrations applied in the background: a service whose database is down at start
 * still starts (not ready, answering 503) and migrates as soon as the database is back.
 */
export function connectMysql(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): MysqlHandle {
  const settings = mysqlSettingsFromEnv(source);
  const pool = createMysqlPool(settings);
  const task = startupTask(ctx, 'mysql migrations', async () => {
    const ran = await ensureSchema(pool, settings);
    if (ran.length) ctx.log.info({ versions: ran }, 'schema migrated');
  });
  ctx.health.addCheck('mysql', async () => {
    if (!task.done()) throw new Error('schema not migrated yet');
    await pool.query('SELECT 1');
  });
  ctx.shutdown.onClose('mysql', async () => {
    task.stop();
    await pool.end();
  });
  return { pool, migrated: task.finished, isMigrated: task.done };
}

/** Runs `work` until it succeeds (backoff up to 5 s), in the background, until shutdown. */
function startupTask(ctx: ServiceContext, name: string, work: () => Promise<void>): { done: () => boolean; stop: () => void; finished: Promise<void> } {
  let done = false;
  let stopped = false;
  const finished = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await work();
        done = true;
        return;
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message, attempt }, `${name} failed; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)).unref());
      }
    }
  })();
  return { done: () => done, stop: () => (stopped = true), finished };
}

export interface SearchHandle {
  readonly index: ProductSearchIndex;
  isReady(): boolean;
}

/** The product search index; its alias is created in the background if the cluster is fresh. */
export function connectSearch(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): SearchHandle {
  const client = createOpenSearchClient(source);
  const index = new ProductSearchIndex(client, loadConfig(searchIndexEnv, source).SEARCH_INDEX_ALIAS);
  // Not a readiness check: with search down the rest of the service still works (search -> 503).
  const task = startupTask(ctx, 'search index', () => index.ensure());
  ctx.shutdown.onClose('opensearch', async () => {
    task.stop();
    await client.close();
  });
  return { index, isReady: task.done };
}

export function connectUploads(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): UploadStore {
  const uploads = UploadStore.fromEnv(source);
  ctx.shutdown.onClose('s3', () => uploads.s3.destroy());
  return uploads;
}

export function connectRedis(ctx: ServiceContext): Cluster {
  const redis = createRedisCluster({
    nodes: ctx.config.REDIS_CLUSTER_NODES,
    tls: ctx.config.REDIS_TLS,
    username: ctx.config.REDIS_USERNAME,
    password: ctx.config.REDIS_PASSWORD,
    // Long enough to ride through most of a failover, inside the 4 s bound below.
    commandTimeoutMs: 3000,
    // An auto-pipelined batch that meets a MOVED after a failover hands the error to the caller
    // instead of following it; business writes (locks, carts, stream acks) must not see that.
    clusterOptions: { enableAutoPipelining: false },
  });
  redis.on('error', (err) => ctx.log.warn({ err: err.message }, 'redis error'));
  ctx.health.addCheck('redis', async () => {
    await redis.ping();
  });
  ctx.shutdown.onClose('redis', () => redis.quit().catch(() => redis.disconnect()));
  return boundedRedis(redis, REDIS_WAIT_MS);
}

/** Longest a request waits on Redis: rides through a failover (~2-4 s), not through an outage. */
export const REDIS_WAIT_MS = 4000;

export class RedisWaitError extends Error {
  constructor(command: string, ms: number) {
    super(`Redis did not answer ${command} within ${ms} ms`);
    this.name = 'RedisWaitError';
  }
}

/**
 * The client with every command bounded to `ms`. ioredis queues commands while the cluster is
 * (re)connecting, which carries them through a failover, but its command timeout starts only once
 * a command is sent: with every node down a queued command would wait forever.
 */
export function boundedRedis<T extends Cluster>(redis: T, ms: number): T {
  return new Proxy(redis, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(out instanceof Promise)) return out;
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisWaitError(String(prop), ms)), ms);
        });
        return Promise.race([out, limit]).finally(() => clearTimeout(timer));
      };
    },
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'POOL_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
]);

/** Which dependency an error says is unavailable, or undefined for any other error. */
export function unavailableDependency(err: unknown): string | undefined {
  const e = err as { name?: string; code?: string; message?: string; sqlState?: string; $metadata?: unknown; cause?: unknown };
  if (!e || typeof e !== 'object') return undefined;
  if (err instanceof NotReadyError) return err.dependency;
  if (err instanceof NoInstanceError || err instanceof BreakerOpenError) return `${err.service} service`;
  if (err instanceof FailureStatusError) return `${err.response.instance?.service ?? 'upstream'} service`;
  if (err instanceof ServiceHttpError && err.statusCode >= 500) return `${err.service} service`;
  const name = e.name ?? '';
  const message = e.message ?? '';
  if (name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError') return 'search';
  if (name === 'RedisWaitError' || name === 'ClusterAllFailedError' || name === 'MaxRetriesPerRequestError' || /Command timed out|Connection is closed|CLUSTERDOWN|Cluster isn't ready|None of startup nodes/.test(message)) {
    return 'redis';
  }
  if (e.code && NETWORK_CODES.has(e.code)) {
    if (e.$metadata) return 'storage';
    // mysql2 marks connection-level failures `fatal`.
    return 'fatal' in e || e.code.startsWith('PROTOCOL') || e.code.startsWith('ER_') || e.code === 'POOL_CLOSED' ? 'database' : 'dependency';
  }
  if (e.$metadata && (name === 'TimeoutError' || /ECONNREFUSED|socket hang up|connect/i.test(message))) return 'storage';
  if (e.cause && e.cause !== err) return unavailableDependency(e.cause);
  return undefined;
}

/**
 * JSON bodies are validated without type coercion (fastify's default turns 7 into "7" and
 * ["a"] into "a"); query strings and path params keep coercion, since they arrive as text.
 */
const strictBody = addFormats(new Ajv({ coerceTypes: false, useDefaults: true, removeAdditional: false, allErrors: false, strict: true }));
const lenientText = addFormats(new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false, strict: true }));

/**
 * Registers the service's routes in a scope with strict body validation and an error handler that
 * answers "dependency down" (and a stock-lock wait) with a JSON 503 + Retry-After; every other
 * error goes on to the kit's handler (400 naming the field for validation errors).
 */
export async function withDependencyErrors(app: FastifyInstance, ctx: ServiceContext, routes: (scope: FastifyInstance) => void | Promise<void>): Promise<void> {
  await app.register(async (scope) => {
    scope.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictBody : lenientText).compile(schema));
    scope.setErrorHandler((err: FastifyError, req, reply) => {
      const dep = err instanceof LockTimeoutError ? 'stock lock' : unavailableDependency(err);
      if (!dep) throw err;
      req.log.warn({ err: err.message, dependency: dep }, 'dependency unavailable');
      void reply
        .code(503)
        .header('retry-after', '2')
        .send({
          error: 'service_unavailable',
          message: `The ${dep} is unavailable right now. Please try again in a moment.`,
          requestId: req.id,
        });
    });
    await routes(scope);
  });
}
