/**
 * What a one-shot job process needs: kit config, a JSON logger, MySQL (migrated), Redis Cluster;
 * everything closed at the end so the process exits by itself, with code 0 only on success.
 */
import { once } from 'node:events';
import { hostname } from 'node:os';
import { connectRedisCluster, createLogger, loadConfig, loadKitConfig, startTracing, type Cluster, type Logger } from '../kit';
import { createMysqlPool, mysqlSettingsFromEnv, type Pool } from '../data/mysql';
import { ensureSchema } from '../schema';
import { jobSpec } from './env';

export interface JobContext {
  readonly log: Logger;
  readonly pool: Pool;
  readonly redis: Cluster;
  /** Stable name of this process (pod name in Kubernetes): the stream consumer name. */
  readonly instance: string;
  /** Resolves when SIGTERM/SIGINT arrives (long-running modes stop on it). */
  readonly stopping: Promise<void>;
}

/** A queued command would wait forever for an unreachable cluster: fail the job instead. */
async function clusterReady(redis: Cluster, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      once(redis, 'ready'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis Cluster not reachable within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runJob(name: string, work: (ctx: JobContext) => Promise<unknown>, source: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadKitConfig(source);
  const instance = loadConfig(jobSpec, source).POD_NAME || config.INSTANCE_ID || `${hostname()}-${process.pid}`;
  // Before any client is built: they trace only when it is on (a consumed event continues its trace).
  const tr = await startTracing({ service: name, instance, version: config.SERVICE_VERSION, config });
  const log = createLogger({ service: name, instance, level: config.LOG_LEVEL, ...(tr.enabled ? { traceFields: () => tr.logFields() } : {}) });
  const settings = mysqlSettingsFromEnv(source);
  const pool = createMysqlPool(settings);
  const redis = connectRedisCluster(config, { log, commandTimeoutMs: 5000, autoPipelining: false });
  const stopping = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  const started = Date.now();
  try {
    await clusterReady(redis, 15_000);
    await ensureSchema(pool, settings);
    const result = await work({ log, pool, redis, instance, stopping });
    log.info({ result, ms: Date.now() - started }, `${name} finished`);
  } catch (err) {
    log.error({ err, ms: Date.now() - started }, `${name} failed`);
    process.exitCode = 1;
  } finally {
    await pool.end().catch(() => undefined);
    await redis.quit().catch(() => redis.disconnect());
    await tr.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'spans not exported'));
  }
}
