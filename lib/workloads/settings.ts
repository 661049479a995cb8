import type { WorkloadSettings } from '../../k8s/settings';
import { PlatformConfig, terminationGraceSeconds } from '../config';

/**
 * The values only a deployment knows: what the other stacks made. In CDK they are tokens of those
 * stacks' resources; for GitOps they come from a values file (`cdk deploy --outputs-file`).
 */
export interface WorkloadEndpoints {
  /** Full image reference of the services image. */
  readonly image: string;
  /** Concrete id of the release (the image tag or the asset hash): names the smoke Job. */
  readonly release: string;
  readonly targetGroupArn: string;
  readonly mysql: { readonly host: string; readonly port: string; readonly secretArn: string };
  /** Redis Cluster configuration endpoint. */
  readonly redis: { readonly host: string; readonly port: string; readonly secretArn: string };
  /** OpenSearch domain endpoint (host name, HTTPS). */
  readonly opensearch: { readonly host: string; readonly secretArn: string };
  readonly uploadsBucket: string;
  readonly jwtSigningKeySecretArn: string;
  readonly smokeSecretArn: string;
  readonly adminSecretArn: string;
}

/** A DNS-label-safe release id from an image tag (or an asset hash): at most 40 characters. */
export function releaseId(tag: string): string {
  const id = tag.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  if (!id) throw new Error(`release id: the image tag "${tag}" has no letter or digit`);
  return id;
}

/** StorageClass of the registry's volumes (made by the namespace chart). */
export const STORAGE_CLASS = 'platform-gp3';

/** Ports the data stores listen on: the data constructs' defaults (their security groups open exactly these). */
export const DATA_PORTS = { mysql: 3306, redis: 6379, opensearch: 443 } as const;

/** The kit's metrics-only port in the cluster (the usual Prometheus exporter port). */
export const METRICS_PORT = 9464;

/**
 * The AWS Distro for OpenTelemetry collector (OTLP in, X-Ray out), pinned. Not the ADOT EKS add-on:
 * that one is an operator whose admission webhooks need cert-manager in the cluster.
 */
export const ADOT_COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3';

/** The collector: batches and forwards, so small; its memory limiter works from the limit. */
const COLLECTOR_RESOURCES = { cpuRequestMillis: 100, cpuLimitMillis: 1000, memoryRequestMiB: 128, memoryLimitMiB: 512 };

/** The smoke Job and the load generator: a client of the gateway, small and bounded. */
const SMALL = { cpuRequestMillis: 50, cpuLimitMillis: 500, memoryRequestMiB: 96, memoryLimitMiB: 256 };

/** One place that turns the environment config and the endpoints into the charts' settings. */
export function workloadSettings(config: PlatformConfig, e: WorkloadEndpoints): WorkloadSettings {
  const w = config.workloads;
  const vpcCidr = config.network.existingVpc?.vpcCidr ?? config.network.vpcCidr;
  return {
    envName: config.envName,
    namespace: w.namespace,
    image: e.image,
    release: releaseId(e.release),
    region: config.region,
    vpcCidr,
    port: config.edge.gatewayPort,
    metricsPort: METRICS_PORT,
    metricsScrapedFromVpc: config.observability.managedPrometheus,
    logLevel: w.logLevel,
    timeouts: { serviceRequestMs: config.timeouts.serviceRequestMs, gatewayUpstreamMs: config.timeouts.gatewayUpstreamMs },
    shutdown: { ...w.shutdown, terminationGracePeriodSeconds: terminationGraceSeconds(w.shutdown) },
    registry: {
      image: w.registry.image,
      members: w.registry.members,
      storageGiB: w.registry.storageGiB,
      quotaBackendBytes: w.registry.quotaMiB * 1024 * 1024,
      compactionRetention: w.registry.compactionRetention,
      resources: w.registry.resources,
    },
    gateway: {
      scale: w.gateway.scale,
      resources: w.gateway.resources,
      targetGroupArn: e.targetGroupArn,
      // CloudFront, then the ALB: the client address is two hops back in X-Forwarded-For.
      trustProxy: '2',
      jwt: {
        issuer: w.gateway.jwtIssuer,
        audience: w.gateway.jwtAudience,
        jwksUrl: `http://user.${w.namespace}.svc:${config.edge.gatewayPort}/.well-known/jwks.json`,
      },
      corsOrigins: w.gateway.corsOrigins,
    },
    services: w.services,
    jobs: w.jobs,
    smoke: { checkout: w.smoke.checkout, stepBudgetMs: w.smoke.stepBudgetMs, deadlineSeconds: w.smoke.deadlineSeconds, resources: SMALL },
    loadgen: { ...w.loadgen, resources: SMALL },
    data: {
      mysql: { host: e.mysql.host, port: e.mysql.port, database: config.mysql.databaseName, secretArn: e.mysql.secretArn },
      redis: { nodes: `${e.redis.host}:${e.redis.port}`, secretArn: e.redis.secretArn },
      opensearch: { url: `https://${e.opensearch.host}`, secretArn: e.opensearch.secretArn },
      uploads: { bucket: e.uploadsBucket },
      jwtSigningKeySecretArn: e.jwtSigningKeySecretArn,
      smokeSecretArn: e.smokeSecretArn,
      adminSecretArn: e.adminSecretArn,
    },
    dataPorts: DATA_PORTS,
    tracing: {
      enabled: config.observability.tracing.enabled,
      sampleRatio: config.observability.tracing.sampleRatio,
      collectorImage: ADOT_COLLECTOR_IMAGE,
      collector: {
        // Two where the gateway runs two or more (a zone or a node lost keeps one), else one.
        scale: { minReplicas: Math.min(2, w.gateway.scale.minReplicas), maxReplicas: Math.max(2, w.gateway.scale.minReplicas), targetCpuPercent: 70 },
        resources: COLLECTOR_RESOURCES,
      },
    },
    storageClassName: STORAGE_CLASS,
  };
}

/**
 * The endpoints as flat stack outputs (`cdk deploy --outputs-file` writes them) and back: the GitOps
 * command reads the same values CDK wires in as tokens. Output key -> path in WorkloadEndpoints.
 */
export const ENDPOINT_OUTPUTS: Record<string, (e: WorkloadEndpoints) => string> = {
  Image: (e) => e.image,
  Release: (e) => e.release,
  TargetGroupArn: (e) => e.targetGroupArn,
  MysqlHost: (e) => e.mysql.host,
  MysqlPort: (e) => e.mysql.port,
  MysqlSecretArn: (e) => e.mysql.secretArn,
  RedisHost: (e) => e.redis.host,
  RedisPort: (e) => e.redis.port,
  RedisSecretArn: (e) => e.redis.secretArn,
  OpenSearchHost: (e) => e.opensearch.host,
  OpenSearchSecretArn: (e) => e.opensearch.secretArn,
  UploadsBucket: (e) => e.uploadsBucket,
  JwtSigningKeySecretArn: (e) => e.jwtSigningKeySecretArn,
  SmokeSecretArn: (e) => e.smokeSecretArn,
  AdminSecretArn: (e) => e.adminSecretArn,
};

/** Reads WorkloadEndpoints from stack outputs; throws naming every missing or empty key. */
export function endpointsFromOutputs(outputs: Record<string, unknown>, source: string): WorkloadEndpoints {
  const missing = Object.keys(ENDPOINT_OUTPUTS).filter((k) => typeof outputs[k] !== 'string' || outputs[k] === '');
  if (missing.length) throw new Error(`${source}: missing output(s) ${missing.join(', ')} (write them with: npx cdk deploy --all -c env=ENV --outputs-file FILE)`);
  const o = outputs as Record<string, string>;
  return {
    image: o.Image,
    release: o.Release,
    targetGroupArn: o.TargetGroupArn,
    mysql: { host: o.MysqlHost, port: o.MysqlPort, secretArn: o.MysqlSecretArn },
    redis: { host: o.RedisHost, port: o.RedisPort, secretArn: o.RedisSecretArn },
    opensearch: { host: o.OpenSearchHost, secretArn: o.OpenSearchSecretArn },
    uploadsBucket: o.UploadsBucket,
    jwtSigningKeySecretArn: o.JwtSigningKeySecretArn,
    smokeSecretArn: o.SmokeSecretArn,
    adminSecretArn: o.AdminSecretArn,
  };
}
