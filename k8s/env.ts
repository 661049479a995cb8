import { WorkloadSettings } from './settings';

/** The stores a workload talks to; its environment and its egress rules follow from them. */
export interface Uses {
  readonly mysql?: boolean;
  readonly redis?: boolean;
  readonly opensearch?: boolean;
  readonly uploads?: boolean;
  /** Registers in / discovers from etcd (HTTP services). */
  readonly registry?: boolean;
  /** Writes trace segments to AWS X-Ray (the OpenTelemetry collector). */
  readonly xray?: boolean;
}

/** What each workload uses (services/src/*: connectMysql, connectRedis, connectSearch, connectUploads). */
export const USES: Record<string, Uses> = {
  gateway: { redis: true, registry: true },
  user: { mysql: true, redis: true, registry: true },
  catalog: { mysql: true, redis: true, opensearch: true, uploads: true, registry: true },
  order: { mysql: true, redis: true, registry: true },
  'order-timeout': { mysql: true, redis: true },
  'search-sync': { mysql: true, redis: true, opensearch: true },
  // Clients of the gateway only.
  smoke: {},
  loadgen: {},
  // Receives the services' spans, forwards them to X-Ray (k8s/charts/telemetry.ts).
  'otel-collector': { xray: true },
};

/** The collector's Service name and OTLP ports (k8s/charts/telemetry.ts). */
export const OTEL_COLLECTOR = { name: 'otel-collector', grpcPort: 4317, httpPort: 4318, healthPort: 13133 } as const;

/**
 * What a kit service or job is told about tracing (services/src/kit/config.ts tracingSpec): nothing
 * when it is off (the kit then loads no SDK), else OTLP http/protobuf to the collector's Service,
 * parent-based sampling with the config's ratio at the root.
 */
export function tracingEnv(s: WorkloadSettings): Record<string, string> {
  if (!s.tracing.enabled) return {};
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${OTEL_COLLECTOR.name}.${s.namespace}.svc:${OTEL_COLLECTOR.httpPort}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(s.tracing.sampleRatio),
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${s.envName}`,
  };
}

/** Client URLs of the etcd members: stable StatefulSet DNS names through the headless Service. */
export function etcdEndpoints(s: WorkloadSettings): string[] {
  return Array.from({ length: s.registry.members }, (_, i) => `http://etcd-${i}.etcd.${s.namespace}.svc:2379`);
}

/**
 * The container environment of `service` (its SERVICE value): plain values and secret ARNs only.
 * services/src/specs.ts is the other side of this contract (test/workloads-contract.test.ts).
 */
export function serviceEnv(s: WorkloadSettings, service: string): Record<string, string> {
  const uses = USES[service];
  if (!uses) throw new Error(`serviceEnv: unknown service ${service}; known: ${Object.keys(USES).join(', ')}`);
  const d = s.data;
  const env: Record<string, string> = {
    SERVICE: service,
    LOG_LEVEL: s.logLevel,
    AWS_REGION: s.region,
  };
  if (service === 'smoke' || service === 'loadgen') {
    Object.assign(env, {
      SMOKE_BASE_URL: `http://gateway.${s.namespace}.svc:${s.port}`,
      SMOKE_SECRET_ARN: s.data.smokeSecretArn,
      SMOKE_CHECKOUT: String(s.smoke.checkout),
      SMOKE_STEP_BUDGET_MS: String(s.smoke.stepBudgetMs),
    });
    if (service === 'loadgen') Object.assign(env, { PORT: String(s.port), LOADGEN_RATE: String(s.loadgen.ratePerSecond), LOADGEN_CONCURRENCY: String(s.loadgen.concurrency) });
    return env;
  }
  Object.assign(env, tracingEnv(s));
  if (uses.registry) {
    Object.assign(env, {
      PORT: String(s.port),
      METRICS_PORT: String(s.metricsPort),
      // Inside the gateway's upstream bound (config timeouts); the gateway ignores it.
      ...(service === 'gateway' ? {} : { REQUEST_BUDGET_MS: String(s.timeouts.serviceRequestMs) }),
      ETCD_ENDPOINTS: etcdEndpoints(s).join(','),
      SHUTDOWN_GRACE_MS: String(s.shutdown.graceMs),
      SHUTDOWN_DRAIN_MS: String(s.shutdown.drainMs),
    });
  } else {
    // Jobs use the kit config for Redis only: keep them out of the registry.
    env.REGISTRY_ENABLED = 'false';
  }
  if (uses.redis) Object.assign(env, { REDIS_CLUSTER_NODES: d.redis.nodes, REDIS_TLS: 'true', REDIS_SECRET_ARN: d.redis.secretArn });
  if (uses.mysql) {
    Object.assign(env, { MYSQL_HOST: d.mysql.host, MYSQL_PORT: d.mysql.port, MYSQL_DATABASE: d.mysql.database, MYSQL_TLS: 'true', MYSQL_SECRET_ARN: d.mysql.secretArn });
  }
  if (uses.opensearch) Object.assign(env, { OPENSEARCH_URL: d.opensearch.url, OPENSEARCH_SECRET_ARN: d.opensearch.secretArn });
  if (uses.uploads) Object.assign(env, { S3_BUCKET: d.uploads.bucket, S3_REGION: s.region });
  const jwt = s.gateway.jwt;
  switch (service) {
    case 'gateway':
      Object.assign(env, {
        TRUST_PROXY: s.gateway.trustProxy,
        // Its bound on one request's upstream call: inside the ALB's idle timeout (config timeouts).
        CLIENT_TIMEOUT_MS: String(s.timeouts.gatewayUpstreamMs),
        JWT_JWKS_URL: jwt.jwksUrl,
        JWT_ISSUER: jwt.issuer,
        JWT_AUDIENCE: jwt.audience,
        CORS_ORIGINS: s.gateway.corsOrigins.join(','),
      });
      break;
    case 'user':
      Object.assign(env, { JWT_ISSUER: jwt.issuer, JWT_AUDIENCE: jwt.audience, JWT_SIGNING_KEY_SECRET_ARN: d.jwtSigningKeySecretArn, ADMIN_SECRET_ARN: d.adminSecretArn, COOKIE_SECURE: 'true' });
      break;
    case 'order-timeout':
      Object.assign(env, { ORDER_TIMEOUT_MINUTES: String(s.jobs.orderTimeout.timeoutMinutes), JOB_COMPLETIONS: String(s.jobs.orderTimeout.shards) });
      break;
  }
  return env;
}
