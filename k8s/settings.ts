/**
 * Everything the workload charts need, as one plain object: no aws-cdk-lib here, so the same charts
 * serve CDK (values are CloudFormation tokens) and GitOps (values are concrete strings read from a
 * values file). `lib/workloads/settings.ts` builds it from the environment config.
 */

/** CPU in millicores, memory in MiB. */
export interface ResourceSettings {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestMiB: number;
  readonly memoryLimitMiB: number;
}

/** Replicas between min and max, scaled on CPU (HPA, autoscaling/v2). */
export interface ScaleSettings {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Average CPU utilisation (% of the request) the HPA aims for. */
  readonly targetCpuPercent: number;
}

export interface DeploymentSettings {
  readonly scale: ScaleSettings;
  readonly resources: ResourceSettings;
}

/**
 * How a pod leaves: the preStop wait (the ALB / kube-proxy stop sending first), then the kit's
 * SIGTERM path (revoke the lease, wait SHUTDOWN_GRACE_MS, drain up to SHUTDOWN_DRAIN_MS).
 */
export interface ShutdownSettings {
  readonly preStopSeconds: number;
  readonly graceMs: number;
  readonly drainMs: number;
  /** Longer than preStop + grace + drain (checked by the config validation). */
  readonly terminationGracePeriodSeconds: number;
}

export interface RegistrySettings {
  /** etcd image, pinned by version. */
  readonly image: string;
  /** Members: 3 (or 5). */
  readonly members: number;
  readonly storageGiB: number;
  /** `--quota-backend-bytes`. */
  readonly quotaBackendBytes: number;
  /** `--auto-compaction-retention` with periodic mode, e.g. `1h`. */
  readonly compactionRetention: string;
  readonly resources: ResourceSettings;
}

export interface GatewaySettings extends DeploymentSettings {
  /** ARN of the sticky target group the edge stack owns (TargetGroupBinding). */
  readonly targetGroupArn: string;
  /** TRUST_PROXY of the gateway: the hops in front of it (CloudFront + ALB). */
  readonly trustProxy: string;
  readonly jwt: { readonly issuer: string; readonly audience: string; readonly jwksUrl: string };
  readonly corsOrigins: readonly string[];
}

export interface OrderTimeoutJobSettings {
  readonly schedule: string;
  /** Indexed completions: the job splits its work by JOB_COMPLETION_INDEX. */
  readonly shards: number;
  readonly timeoutMinutes: number;
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly resources: ResourceSettings;
}

export interface SearchSyncJobSettings {
  /** Nightly full rebuild. */
  readonly schedule: string;
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly resources: ResourceSettings;
  /** The follow-mode consumer (a Deployment). */
  readonly follow: DeploymentSettings;
}

/** Where the data stores are; secrets by ARN only (read at start through Pod Identity). */
export interface DataEndpoints {
  readonly mysql: { readonly host: string; readonly port: string; readonly database: string; readonly secretArn: string };
  /** Redis Cluster configuration endpoint `host:port`, TLS on. */
  readonly redis: { readonly nodes: string; readonly secretArn: string };
  readonly opensearch: { readonly url: string; readonly secretArn: string };
  readonly uploads: { readonly bucket: string };
  /** The gateway's JWKS comes from the user service; its signing key from this secret. */
  readonly jwtSigningKeySecretArn: string;
  /** The smoke account (`{"email","password"}`) of the journey. */
  readonly smokeSecretArn: string;
  /** The bootstrap admin (`{"email","password"}`) the user service creates or promotes. */
  readonly adminSecretArn: string;
}

/** The release's smoke Job (named after the release, so every deploy runs a fresh one). */
export interface SmokeSettings {
  readonly checkout: boolean;
  readonly stepBudgetMs: number;
  readonly deadlineSeconds: number;
  readonly resources: ResourceSettings;
}

export interface LoadgenSettings {
  readonly enabled: boolean;
  readonly ratePerSecond: number;
  readonly concurrency: number;
  readonly resources: ResourceSettings;
}

/**
 * Distributed tracing (config `observability.tracing`): what the services are told (OTEL_* variables)
 * and the OpenTelemetry collector they export to, which forwards to AWS X-Ray.
 */
export interface TracingSettings {
  /** Off: no OTEL_* variable for the services (their kit loads no SDK) and no collector. */
  readonly enabled: boolean;
  /** Ratio of the traces the gateway starts that are sampled; every hop below follows that decision. */
  readonly sampleRatio: number;
  /** AWS Distro for OpenTelemetry collector image, pinned by version. */
  readonly collectorImage: string;
  /** Collector pods: span volume follows traffic, so scaled on CPU like the services. */
  readonly collector: DeploymentSettings;
}

/** Ports the data stores listen on (NetworkPolicy egress). */
export interface DataPorts {
  readonly mysql: number;
  readonly redis: number;
  readonly opensearch: number;
}

export interface WorkloadSettings {
  readonly envName: string;
  readonly namespace: string;
  /** Services image (one image, SERVICE picks the entry). */
  readonly image: string;
  /** A concrete id of this release (the image tag): names the smoke Job. DNS-label safe. */
  readonly release: string;
  readonly region: string;
  /** CIDR of the VPC: the ALB and the data stores live in it (NetworkPolicy peers). */
  readonly vpcCidr: string;
  /** Port every HTTP workload listens on (the target group port too). */
  readonly port: number;
  /**
   * Port the kit serves only `/metrics` on (METRICS_PORT): the managed Prometheus scraper's, open to
   * the VPC (where its interfaces are) while the API port stays closed to all but its callers.
   */
  readonly metricsPort: number;
  /**
   * Whether the managed Prometheus scraper reads the metrics port from the VPC
   * (`observability.managedPrometheus`): the NetworkPolicies open that port to the VPC only then.
   */
  readonly metricsScrapedFromVpc: boolean;
  readonly logLevel: string;
  /** The services' and the gateway's bounds in the platform's timeout chain (config `timeouts`). */
  readonly timeouts: { readonly serviceRequestMs: number; readonly gatewayUpstreamMs: number };
  readonly shutdown: ShutdownSettings;
  readonly registry: RegistrySettings;
  readonly gateway: GatewaySettings;
  readonly services: { readonly user: DeploymentSettings; readonly catalog: DeploymentSettings; readonly order: DeploymentSettings };
  readonly jobs: { readonly orderTimeout: OrderTimeoutJobSettings; readonly searchSync: SearchSyncJobSettings };
  readonly smoke: SmokeSettings;
  readonly loadgen: LoadgenSettings;
  readonly data: DataEndpoints;
  readonly dataPorts: DataPorts;
  readonly tracing: TracingSettings;
  /** StorageClass the etcd volumes use (made by the namespace chart: gp3, encrypted). */
  readonly storageClassName: string;
}

/** Paths the services kit serves (services/src/kit/health.ts). */
export const KIT_PATHS = { ready: '/readyz', live: '/healthz', metrics: '/metrics' } as const;

/**
 * Pod annotations the managed Prometheus scraper keeps (lib/constructs/managed-prometheus.ts
 * SCRAPE_ANNOTATIONS; a test keeps the two equal: k8s/ imports no aws-cdk-lib).
 */
export const SCRAPE_ANNOTATIONS = { scrape: 'prometheus.io/scrape', port: 'prometheus.io/port', path: 'prometheus.io/path' } as const;

/** Names of the workloads: Kubernetes object names, ServiceAccounts, SERVICE values, Pod Identity. */
export const WORKLOADS = ['gateway', 'user', 'catalog', 'order', 'order-timeout', 'search-sync', 'search-sync-follow', 'etcd', 'smoke', 'loadgen', 'otel-collector'] as const;

/** The smoke Job of a release. */
export const smokeJobName = (release: string): string => `smoke-${release}`.slice(0, 63).replace(/-+$/, '');
export type WorkloadName = (typeof WORKLOADS)[number];
