/**
 * Data clients for a kit service, wired into its readiness checks and shutdown, plus the mapping
 * of "a dependency is down" errors to a friendly 503 (the process stays up and recovers on its own).
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyError, FastifyInstance } from 'fastify';
import { connectRedisCluster, replyDependencyUnavailable, startupTask, type Cluster, type ServiceContext } from '../kit';
import { BreakerOpenError, NoInstanceError, ServiceHttpError, FailureStatusError } from '../kit';
import { createMysqlPool, mysqlSettingsFromEnv, type Pool } from './mysql';
import { ensureSchema } from '../schema';
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
 * A pool whose every wait (taking a connection, connecting, each statement) is bounded by the
 * service's budgets, with migrations applied in the background: a service whose database is down
 * at start still starts, answers 503 on the routes that need MySQL and serves the others, and
 * migrates as soon as the database is back. MySQL is reported in /readyz but is not critical:
 * an outage, shared by every instance, must not pull them all from the registry.
 */
export function connectMysql(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): MysqlHandle {
  const settings = mysqlSettingsFromEnv(source);
  const b = ctx.budgets;
  // Migrations wait on a named lock and run DDL: they get a pool of their own, unbounded.
  const migrations = createMysqlPool({ ...settings, poolSize: 1 }, { connectMs: b.mysqlConnectMs });
  const pool = createMysqlPool(settings, { connectMs: b.mysqlConnectMs, acquireMs: b.mysqlAcquireMs, queryMs: b.mysqlQueryMs });
  const task = startupTask(ctx, 'mysql migrations', async () => {
    const ran = await ensureSchema(migrations, settings);
    if (ran.length) ctx.log.info({ versions: ran }, 'schema migrated');
  });
  void task.finished.then(() => migrations.end().catch(() => undefined));
  // Critical, and about this instance only: not ready while its first migration is still running
  // (a new pod of a rolling deploy takes no traffic before its schema is there). If the migration
  // cannot run because MySQL is unreachable, the instance serves what needs no MySQL meanwhile.
  ctx.health.addCheck('schema', () => {
    if (task.done()) return true;
    const err = task.lastError();
    if (err !== undefined && unavailableDependency(err) === 'database') return true;
    throw new Error(err === undefined ? 'migrating' : 'migration failed; retrying');
  });
  ctx.health.addCheck(
    'mysql',
    async () => {
      if (!task.done()) throw new Error('schema not migrated yet');
      await pool.query('SELECT 1');
    },
    { critical: false },
  );
  ctx.shutdown.onClose('mysql', async () => {
    task.stop();
    await Promise.allSettled([pool.end(), migrations.end()]);
  });
  return { pool, migrated: task.finished, isMigrated: task.done };
}

export function connectUploads(ctx: ServiceContext, source: NodeJS.ProcessEnv = process.env): UploadStore {
  const uploads = UploadStore.fromEnv(source);
  ctx.shutdown.onClose('s3', () => uploads.s3.destroy());
  return uploads;
}

export function connectRedis(ctx: ServiceContext): Cluster {
  const wait = ctx.budgets.redisWaitMs;
  const redis = connectRedisCluster(ctx.config, {
    log: ctx.log,
    // A sent command's own bound, inside the bound on the whole wait below.
    commandTimeoutMs: Math.max(100, wait - 250),
    autoPipelining: false,
    // While a failover settles, nodes disagree on who owns a slot: follow MOVED with a pause
    // instead of spending every redirection in a few milliseconds.
    clusterOptions: { retryDelayOnMoved: 100 },
  });
  // Reported, not critical: routes that need Redis answer their own 503 while it is down.
  ctx.health.addCheck('redis', async () => {
    await redis.ping();
  }, { critical: false });
  ctx.shutdown.onClose('redis', () => redis.quit().catch(() => redis.disconnect()));
  return boundedRedis(redis, wait);
}

/** A Redis wait that ran out of its bound, or a Redis error that says the cluster is not serving (a failover, an outage). */
export class RedisUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'RedisUnavailableError';
  }
}

/** ioredis errors that mean "not serving right now" (cluster state, connections), not a bad command. */
const REDIS_UNAVAILABLE = /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN|NOREPLICAS|BUSY)\b|Too many Cluster redirections|Connection is closed|Command timed out|Failed to refresh slots cache|None of startup nodes|Cluster isn't ready|Stream isn't writeable|max retries|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH/;

/** True when `err` (from ioredis) says the cluster is unavailable rather than the command wrong. */
export function isRedisUnavailable(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | undefined;
  if (!e) return false;
  return e.name === 'RedisUnavailableError' || e.name === 'ClusterAllFailedError' || e.name === 'MaxRetriesPerRequestError' || REDIS_UNAVAILABLE.test(e.message ?? '');
}

/**
 * The client with every command bounded to `ms`, and every "cluster not serving" error turned
 * into a {@link RedisUnavailableError} (a 503 with Retry-After, never a 500). ioredis queues
 * commands while the cluster is (re)connecting, which carries them through a failover, but its
 * command timeout starts only once a command is sent: with every node down a queued command would
 * wait forever.
 */
export function boundedRedis<T extends Cluster>(redis: T, ms: number): T {
  const bound = (out: Promise<unknown>, what: string): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis did not answer ${what} within ${ms} ms`)), ms);
    });
    return Promise.race([out, limit])
      .catch((err: unknown) => {
        throw asRedisError(err);
      })
      .finally(() => clearTimeout(timer));
  };
  return new Proxy(redis, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'pipeline' || prop === 'multi') {
          // A batch's exec is bounded like a single command.
          const batch = out as { exec: (...a: unknown[]) => Promise<unknown> };
          const exec = batch.exec.bind(batch);
          batch.exec = (...a: unknown[]) => bound(exec(...a), `${String(prop)}.exec`);
          return batch;
        }
        if (!(out instanceof Promise)) return out;
        return bound(out, String(prop));
      };
    },
  });
}

/** `err` as a {@link RedisUnavailableError} when it says the cluster is not serving; otherwise as it is. */
export function asRedisError(err: unknown): unknown {
  if (isRedisUnavailable(err) && !(err instanceof RedisUnavailableError)) return new RedisUnavailableError(`Redis unavailable: ${(err as Error).message}`, err);
  return err;
}

/** How long a write waits for a replica to have it before it is acknowledged anyway, ms. */
export const REPLICA_WAIT_MS = 100;

/**
 * Runs `write` (commands on `key`, with the client's own handling of redirections), then
 * `WAIT 1` on the master that owns `key`: the write is acknowledged once a replica has it, so a
 * failover right after (the replica promoted) keeps it. Redis replication is asynchronous
 * otherwise, and a cart item acknowledged, or a cart emptied by a checkout, just before its
 * master died would be gone (or back). Best effort by design: with no replica answering within
 * `waitMs` (the master's replica is the one that died), or WAIT failing, the write is
 * acknowledged anyway: slower, never blocked, never failed by it.
 */
export async function replicated<T>(redis: Cluster, key: string, write: () => Promise<T>, waitMs = REPLICA_WAIT_MS): Promise<T> {
  const result = await write();
  const nodeKey = redis.slots?.[keySlot(key)]?.[0];
  const master = nodeKey ? redis.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey) : undefined;
  if (master) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      master.wait(1, waitMs).catch(() => 0),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs + 200);
      }),
    ]).finally(() => clearTimeout(timer));
  }
  return result;
}

/** The Redis Cluster hash slot of `key` (CRC16/XMODEM of the key, or of its `{hash tag}`). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
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
  // Redis errors come wrapped by boundedRedis; the network codes below are then MySQL's or S3's.
  if (name === 'RedisUnavailableError' || name === 'ClusterAllFailedError' || name === 'MaxRetriesPerRequestError'
    || /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN|LOADING|READONLY|MASTERDOWN)\b|Too many Cluster redirections|Command timed out|Connection is closed|Cluster isn't ready|None of startup nodes/.test(message)) {
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
      void replyDependencyUnavailable(reply, dep);
    });
    await routes(scope);
  });
}
