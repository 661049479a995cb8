/**
 * The jobs' variables; see services/README.md. A job (src/jobs/runtime.ts) reads the kit's
 * variables (Redis Cluster, logs), MySQL's and POD_NAME, then its own.
 */
import { env, envRule, kitSpec } from '../kit/config';
import { mysqlEnv, openSearchAuthRule, openSearchEnv, searchIndexEnv } from '../data/settings';

/** What runJob reads besides the kit and MySQL. */
export const jobSpec = {
  /** Stable name of the process (downward API in Kubernetes): the stream consumer name. @default hostname-pid */
  POD_NAME: env.optional(),
};

/** order-timeout's shard (a Kubernetes indexed Job sets JOB_COMPLETION_INDEX) and window. */
export const orderTimeoutSpec = {
  JOB_COMPLETIONS: env.int({ default: 1, min: 1, max: 1000 }),
  JOB_COMPLETION_INDEX: env.int({ default: 0, min: 0, max: 999 }),
  ORDER_TIMEOUT_MINUTES: env.number({ default: 30, above: 0 }),
};

/** The shard index must be one of the JOB_COMPLETIONS shards. */
export const shardRule = envRule(orderTimeoutSpec, (c) =>
  c.JOB_COMPLETIONS !== undefined && c.JOB_COMPLETION_INDEX !== undefined && c.JOB_COMPLETION_INDEX >= c.JOB_COMPLETIONS
    ? [`JOB_COMPLETION_INDEX must be an integer in [0, ${c.JOB_COMPLETIONS - 1}] (got "${c.JOB_COMPLETION_INDEX}")`]
    : [],
);

export const searchSyncSpec = {
  SEARCH_SYNC_MODE: env.oneOf(['full', 'drain', 'follow'] as const, { default: 'drain' }),
  /** Pending entries of other consumers idle this long are claimed, ms. */
  SEARCH_SYNC_MIN_IDLE_MS: env.int({ default: 30_000, min: 0 }),
};

/** Every variable `SERVICE=order-timeout` reads. */
export const orderTimeoutEnv = { ...kitSpec, ...mysqlEnv, ...jobSpec, ...orderTimeoutSpec };
export const orderTimeoutRules = [shardRule];

/** Every variable `SERVICE=search-sync` reads. */
export const searchSyncEnv = { ...kitSpec, ...mysqlEnv, ...jobSpec, ...openSearchEnv, ...searchIndexEnv, ...searchSyncSpec };
export const searchSyncRules = [openSearchAuthRule];
