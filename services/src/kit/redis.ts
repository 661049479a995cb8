import { Cluster, type ClusterOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { KitConfig } from './config';
import { traceRedis } from './store-tracing';
import { tracing } from './tracing';

export { Cluster } from 'ioredis';

/** Options of {@link createRedisCluster}. */
export interface RedisClusterSettings {
  /** Seed nodes as `host:port`; any reachable member is enough to learn the slot map. */
  readonly nodes: readonly string[];
  /** TLS to the nodes (ElastiCache in-transit encryption). @default false */
  readonly tls?: boolean;
  /** AUTH token (ElastiCache) or ACL password. @default none */
  readonly password?: string;
  /** ACL user name (ElastiCache RBAC). @default none: the default user */
  readonly username?: string;
  /** Rejects a command that takes longer, ms, so a dead master fails calls fast. @default 500 */
  readonly commandTimeoutMs?: number;
  /** Merged over the defaults. @default none */
  readonly clusterOptions?: ClusterOptions;
}

/**
 * An ioredis Cluster client. In AWS (ElastiCache cluster mode, TLS + AUTH) the configuration
 * endpoint is a DNS name whose certificate must match: `dnsLookup` keeps the names, as ioredis
 * documents for ElastiCache TLS. Locally it is plain TCP to 127.0.0.1 nodes.
 * Auto-pipelining batches concurrent commands per node (the gateway's rate limiter relies on it).
 */
export function createRedisCluster(settings: RedisClusterSettings): Cluster {
  const nodes = settings.nodes.map((n) => {
    const i = n.lastIndexOf(':');
    return i > 0 ? { host: n.slice(0, i), port: Number(n.slice(i + 1)) } : { host: n, port: 6379 };
  });
  if (nodes.length === 0) throw new Error('createRedisCluster needs at least one node');
  const options: ClusterOptions = {
    enableAutoPipelining: true,
    slotsRefreshTimeout: 2000,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    maxRedirections: 16,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: {
      commandTimeout: settings.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      maxRetriesPerRequest: 2,
      ...(settings.password ? { password: settings.password } : {}),
      ...(settings.username ? { username: settings.username } : {}),
      ...(settings.tls ? { tls: {} } : {}),
    },
    ...(settings.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    ...settings.clusterOptions,
  };
  const cluster = new Cluster(nodes, options);
  // With tracing on, each command inside a traced request or event is a client span.
  const tr = tracing();
  return tr.enabled ? traceRedis(cluster, tr) : cluster;
}

/** How a process reaches the cluster: the kit's REDIS_* variables. */
export type RedisClusterConfig = Pick<KitConfig, 'REDIS_CLUSTER_NODES' | 'REDIS_TLS' | 'REDIS_USERNAME' | 'REDIS_PASSWORD'>;

/** Options of {@link connectRedisCluster}. */
export interface RedisClientOptions {
  /** Client errors (a node down, a failover) go here, at most one line per 5 s. */
  readonly log: Logger;
  /** Bound on a sent command, ms. */
  readonly commandTimeoutMs: number;
  /**
   * Batch concurrent commands per node. An auto-pipelined batch that meets a MOVED after a failover
   * hands the error to the caller instead of following it: keep it for counters a caller may lose
   * (the gateway's rate limits), turn it off for business writes (locks, carts, stream acks). @default true
   */
  readonly autoPipelining?: boolean;
  /** Merged over the kit's defaults. @default none */
  readonly clusterOptions?: ClusterOptions;
}

/** The one way a service or job builds its Redis Cluster client: addresses and credentials from the kit config. */
export function connectRedisCluster(config: RedisClusterConfig, options: RedisClientOptions): Cluster {
  const redis = createRedisCluster({
    nodes: config.REDIS_CLUSTER_NODES,
    tls: config.REDIS_TLS,
    username: config.REDIS_USERNAME,
    password: config.REDIS_PASSWORD,
    commandTimeoutMs: options.commandTimeoutMs,
    clusterOptions: { enableAutoPipelining: options.autoPipelining ?? true, ...options.clusterOptions },
  });
  // A dead node emits an error per reconnect attempt: one line per 5 s says it without flooding.
  let lastWarning = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastWarning < 5000) return;
    lastWarning = Date.now();
    options.log.warn({ err: err.message }, 'redis error');
  });
  return redis;
}
