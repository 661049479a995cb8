/**
 * The services runtime kit: what every platform service uses, written once.
 *
 * Start here:
 * ```ts
 * import { createService, propagatedHeaders, readIdentity } from '../kit';
 *
 * export async function start() {
 *   const svc = await createService({
 *     name: 'catalog',
 *     routes(app, ctx) {
 *       app.get('/items/:id', async (req) => {
 *         const who = readIdentity(req.headers);          // set by the gateway after JWT checks
 *         return ctx.client.json('user', { path: `/users/${who?.userId}`, headers: propagatedHeaders(req.headers) });
 *       });
 *       ctx.health.addCheck('mysql', () => pool.query('select 1').then(() => true));
 *       ctx.shutdown.onClose('mysql', () => pool.end());
 *     },
 *   });
 *   svc.handleSignals();
 *   await svc.start();
 * }
 * ```
 * Then add one line to `src/entries.ts`. Environment variables: {@link kitSpec} and services/README.md.
 */

/** Environment config: typed, validated, one error naming every bad variable. */
export {
  ConfigError, DEFAULT_BUDGETS, budgets, env, loadConfig, loadKitConfig, kitSpec, tokenKeyRule, tokenSpec, LOCAL_ETCD_ENDPOINTS, LOCAL_REDIS_NODES,
} from './config';
export type { Budgets, KitConfig, VarSpec, Parsed } from './config';

/** Bearer token verification (the gateway's, and every service's own check of the forwarded token). */
export { AuthError, JWKS_METADATA_FIELD, JwtVerifier, KeysUnavailableError, publishedKeys, tokenVerifier } from './jwt';
export type { AuthFailure, JwtSettings, KeyDirectory, TokenConfig, TokenVerifier } from './jwt';

/** Secrets at start: `*_SECRET_ARN` variables fill the plain ones from AWS Secrets Manager (src/main.ts). */
export { SECRET_ARN_PATTERN, SECRET_SOURCES, SecretError, loadSecrets, readSecretString, secretArn, secretsSpec, withSecrets } from './secrets';
export type { SecretReader, SecretReport, SecretSource } from './secrets';

/** pino JSON logs (`service`, `instance`, `reqId` on request lines). */
export { createLogger } from './logger';
export type { Logger, LoggerSettings } from './logger';

/** Prometheus metrics: a per-service registry with HTTP request counter + latency histogram. */
export { createMetrics, HotPathCounter, HotPathHistogram, LATENCY_BUCKETS, Counter, Gauge, Histogram, Registry } from './metrics';
export type { HotPathMetricSettings, HttpMetrics } from './metrics';

/** `/healthz` + `/readyz` state and readiness checks. */
export { Health } from './health';
export type { ReadinessCheck, ReadinessReport } from './health';

/** etcd registry: lease registration, watched instance table, watched dynamic config. */
export { RegistryClient, REGISTRY_ROOT, SERVICES_PREFIX, CONFIG_PREFIX, instanceKey } from './registry';
export type { ServiceInstance, RegistryOptions } from './registry';

/** Calls other services by name: balancing, timeouts, retries, per-instance breakers, fallback. */
export { ResponseBody } from './response-body';
export {
  DEPENDENCY_UNAVAILABLE_HEADER, IDEMPOTENCY_KEY_HEADER, ServiceClient, NoInstanceError, BreakerOpenError, FailureStatusError, ServiceHttpError, neverReached,
} from './service-client';
export type {
  AttemptEvent, BalancerKind, BreakerSettings, Discovery, Fallback, ServiceClientOptions, ServiceRequest, ServiceResponse,
} from './service-client';

/** Shutdown order: revoke lease → not ready → grace → drain → close server → close clients → exit 0. */
export { GracefulShutdown } from './shutdown';
export type { ShutdownSettings } from './shutdown';

/** ioredis Cluster: TLS + AUTH in AWS, plain locally. */
export { connectRedisCluster, createRedisCluster, Cluster } from './redis';
export type { RedisClientOptions, RedisClusterConfig, RedisClusterSettings } from './redis';

/** Identity headers the gateway sets after JWT verification, and helpers to read / propagate them. */
export {
  IDENTITY_HEADERS, REQUEST_ID_HEADER, RESERVED_HEADER_PREFIXES, dropReservedHeaders, identityHeaders, isReservedHeader, propagatedHeaders, readIdentity,
} from './identity';
export type { Identity } from './identity';

/** The platform's error answers: `{ error, message, requestId }`, 401 "Log in first", 503 "dependency unavailable". */
export { errorPayload, replyDependencyUnavailable, replyError, replyLoginRequired, requireUserId } from './replies';

/** Work a service retries in the background until it succeeds (migrations, an index alias). */
export { startupTask } from './startup-task';

/** The HTTP service bootstrap. */
export { createService, errorBody } from './service';
export type { ClientOptions, Service, ServiceContext, ServiceDefinition } from './service';

/** OpenTelemetry tracing: off unless OTEL_TRACES_EXPORTER=otlp (then W3C propagation, OTLP export). */
export { NO_TRACING, TRACEPARENT, TRACESTATE, loadTracingConfig, startTracing, stopTracing, tracing, tracingSpec, tracingWanted } from './tracing';
export type { Attributes, Carrier, SpanKindName, SpanOptions, StartTracingOptions, TraceSpan, Tracing, TracingConfig } from './tracing';
