/**
 * Typed per-environment parameters. One interface, one const per environment
 * (lib/config/environments.ts), validated by lib/config/validate.ts before any
 * construct is created, so a bad value fails synth naming the field.
 */

import type { DeploymentSettings, ResourceSettings } from '../../k8s/settings';

/** Scaling and size of one Deployment (k8s/settings.ts: the charts take the same shapes). */
export type { DeploymentSettings, ResourceSettings };

/** The environments this app knows. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Subnet ids of an existing VPC, one per availability zone, in the same order. */
export interface ExistingVpcConfig {
  /** VPC id, `vpc-` followed by hex. */
  readonly vpcId: string;
  /** CIDR of the existing VPC (used for security group rules and documentation). */
  readonly vpcCidr: string;
  /** Public subnets (NAT; the VPC needs an internet gateway for CloudFront VPC origins). One per availability zone. */
  readonly publicSubnetIds: string[];
  /** Private subnets with egress (EKS nodes, OpenSearch, the internal ALB). One per availability zone. */
  readonly privateSubnetIds: string[];
  /** Isolated subnets (RDS, ElastiCache). One per availability zone. */
  readonly isolatedSubnetIds: string[];
}

export interface NetworkConfig {
  /** CIDR block of the VPC, e.g. `10.20.0.0/16`. Prefix length 16 to 20. */
  readonly vpcCidr: string;
  /** How many availability zones to spread over (1 to 6; at least 2 in prod). */
  readonly maxAzs: number;
  /**
   * Availability zone names to use, e.g. `['eu-west-1a', 'eu-west-1b']`.
   * @default the first network.maxAzs of `<region>a`, `<region>b`, `<region>c`, ... (no lookup at synth)
   */
  readonly availabilityZones?: string[];
  /** NAT gateways (1 in dev to save cost, one per AZ in prod); with natInstanceType, NAT instances. */
  readonly natGateways: number;
  /**
   * NAT instances of this type (e.g. `t4g.nano`) instead of managed NAT gateways: a quarter of the
   * price (about USD 10 a month with its address, monitoring and disk, against 39 in eu-west-1), one EC2 host per gateway with no managed
   * failover. Only where `retainData` is false (a disposable environment); ignored with
   * `existingVpc`, like natGateways (its owner runs its NAT).
   * @default managed NAT gateways
   */
  readonly natInstanceType?: string;
  /**
   * Interface VPC endpoints to create, by service name as in `ec2.InterfaceVpcEndpointAwsService`
   * (e.g. `ECR`, `ECR_DOCKER`, `SECRETS_MANAGER`, `STS`, `CLOUDWATCH_LOGS`).
   */
  readonly interfaceEndpoints: string[];
  /** Retention of the VPC flow logs in days: one of the CloudWatch Logs values (1, 3, 5, 7, 14, 30, 60, 90, ..., 365, ...). */
  readonly flowLogRetentionDays: number;
  /** Bring an existing VPC instead of creating one. */
  readonly existingVpc?: ExistingVpcConfig;
}

export interface MysqlConfig {
  /** RDS instance type without the `db.` prefix, e.g. `t4g.medium`, `r7g.large`. */
  readonly instanceType: string;
  /** Standby in a second availability zone. */
  readonly multiAz: boolean;
  /** Initial storage in GiB (20 to 65536). */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling in GiB (>= allocatedStorageGiB). */
  readonly maxAllocatedStorageGiB: number;
  /** Automated backup retention in days (7 to 35). */
  readonly backupRetentionDays: number;
  /** Name of the initial database. */
  readonly databaseName: string;
}

export interface RedisConfig {
  /** `redis` or `valkey`. */
  readonly engine: 'redis' | 'valkey';
  /** ElastiCache node type, e.g. `cache.t4g.small`, `cache.r7g.large`. */
  readonly nodeType: string;
  /** Number of shards (node groups), 1 to 500. */
  readonly shards: number;
  /** Replicas per shard, 0 to 5 (>= 1 for automatic failover). */
  readonly replicasPerShard: number;
  /** Daily snapshots kept, in days (0 disables snapshots). */
  readonly snapshotRetentionDays: number;
}

export interface SearchConfig {
  /** OpenSearch data node instance type, e.g. `t3.small.search`, `r7g.large.search`. */
  readonly dataNodeType: string;
  /** Data node count (a multiple of the zone count when zone awareness is on). */
  readonly dataNodes: number;
  /** Availability zones the domain spans: 1 (no zone awareness), 2 or 3. */
  readonly zoneCount: number;
  /** Dedicated master node type, or undefined for none. */
  readonly masterNodeType?: string;
  /** Dedicated master count (3 or 5) when masterNodeType is set. */
  readonly masterNodes?: number;
  /** EBS volume per data node in GiB. */
  readonly volumeSizeGiB: number;
}

export interface BucketsConfig {
  /** Days to keep non-current object versions. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days to keep access logs. */
  readonly accessLogRetentionDays: number;
  /** Origins allowed to PUT uploads through presigned URLs (CORS). */
  readonly uploadCorsOrigins: string[];
}

/** AWS Backup of the data stores (RDS and the uploads bucket), besides RDS's own automated backups. */
export interface BackupConfig {
  /** Days each daily recovery point is kept (7 to 3650); also the Vault Lock's minimum retention. */
  readonly retentionDays: number;
  /**
   * Vault Lock: `none`, `governance` (enforced, removable by principals allowed to), or `compliance`
   * (immutable 3 days after deploy: nobody can shorten retention or delete recovery points). Locked in prod.
   */
  readonly vaultLock: 'none' | 'governance' | 'compliance';
  /**
   * Region of a second vault (stack `<app>-<env>-backup-copy`) every recovery point is copied to.
   * @default - no copy
   */
  readonly copyRegion?: string;
  /**
   * Days copies are kept (7 to 3650; only with copyRegion).
   * @default retentionDays
   */
  readonly copyRetentionDays?: number;
}

/** Who may reach the Kubernetes API endpoint. */
export type EndpointAccessMode = 'private' | 'public-and-private';

export interface ClusterConfig {
  /** Kubernetes minor version, e.g. `1.35`. Changing it is the whole upgrade (kubectl layer follows). */
  readonly kubernetesVersion: string;
  /**
   * API endpoint access: `public-and-private` (public side limited to publicAccessCidrs, nodes use the
   * private side) in dev, `private` in prod.
   */
  readonly endpointAccess: EndpointAccessMode;
  /** CIDRs allowed to the public endpoint (ignored when private). */
  readonly publicAccessCidrs: string[];
  /** Managed node group instance types, e.g. `['m7g.large']`. All of one architecture. */
  readonly nodeInstanceTypes: string[];
  /** `ON_DEMAND` or `SPOT`. */
  readonly capacityType: 'ON_DEMAND' | 'SPOT';
  /** Node group minimum size. */
  readonly minNodes: number;
  /** Node group maximum size. */
  readonly maxNodes: number;
  /** Node group desired size at creation. */
  readonly desiredNodes: number;
  /** Root volume per node in GiB. */
  readonly nodeDiskGiB: number;
  /**
   * Pods per node with VPC CNI prefix delegation (8 to 110); unset keeps EKS's figure for the
   * instance type. Small nodes need it (a t4g.small holds 11 pods without it).
   */
  readonly maxPodsPerNode?: number;
  /** IAM principal ARNs (roles or users) granted cluster-admin through access entries. */
  readonly adminPrincipalArns: string[];
  /** Days to keep control-plane logs: one of the CloudWatch Logs values. */
  readonly logRetentionDays: number;
}

/** How the ALB keeps a client on one gateway pod. */
export interface StickinessConfig {
  /** `lb_cookie` (duration-based, ALB cookie AWSALB) or `app_cookie` (follows an application cookie). */
  readonly mode: 'lb_cookie' | 'app_cookie';
  /** Stickiness duration in seconds (1 to 604800). */
  readonly durationSeconds: number;
  /** Application cookie name for `app_cookie` (must not start with AWSALB). */
  readonly appCookieName?: string;
}

export interface WafConfig {
  /** Requests per 5 minutes per client IP before the rate-based rule blocks. */
  readonly rateLimitPer5Min: number;
  /** CIDRs always allowed (evaluated before the managed rules). */
  readonly allowCidrs: string[];
  /** CIDRs always blocked. */
  readonly denyCidrs: string[];
}

export interface EdgeConfig {
  /**
   * Public host name served by CloudFront, e.g. `www.example.com`. Required in staging and prod
   * (end-to-end TLS), together with both certificates; dev may leave all three out (then CloudFront
   * serves its *.cloudfront.net name and reaches the ALB over plain HTTP inside AWS).
   */
  readonly domainName?: string;
  /** ACM certificate ARN in us-east-1 covering domainName (CloudFront viewers). Set with domainName. */
  readonly cdnCertificateArn?: string;
  /**
   * ACM certificate ARN in the app's region covering domainName, for the ALB's HTTPS listener (CloudFront
   * forwards the viewer's Host and checks this certificate against it). Set with domainName.
   */
  readonly albCertificateArn?: string;
  /** Port the gateway pods listen on (target group port). */
  readonly gatewayPort: number;
  /** Gateway health check path. */
  readonly healthCheckPath: string;
  /** Seconds the ALB drains a deregistering target. */
  readonly deregistrationDelaySeconds: number;
  /** Seconds a new target ramps up (0 = off, else 30 to 900). */
  readonly slowStartSeconds: number;
  readonly stickiness: StickinessConfig;
  /** Session cookie of the platform (forwarded by CloudFront, never part of the cache key). */
  readonly sessionCookieName: string;
  /** Default TTL of `/api/*` responses at CloudFront, in seconds (origin Cache-Control wins). */
  readonly apiDefaultTtlSeconds: number;
  /** CloudFront price class: `100`, `200` or `All`. */
  readonly priceClass: '100' | '200' | 'All';
  readonly waf: WafConfig;
}

/** How a pod leaves; the grace period and the ALB's deregistration delay are derived from / checked against it. */
export interface ShutdownConfig {
  /** Seconds the pod keeps serving after it is marked terminating (ALB and kube-proxy stop sending). */
  readonly preStopSeconds: number;
  /** SHUTDOWN_GRACE_MS of the kit: after the lease is revoked, time for gateways to drop the instance. */
  readonly graceMs: number;
  /** SHUTDOWN_DRAIN_MS of the kit: the longest wait for in-flight requests. */
  readonly drainMs: number;
}

export interface WorkloadsConfig {
  /** Kubernetes namespace of every platform workload. */
  readonly namespace: string;
  /**
   * The services image from a team's own pipeline; when left out, `cdk deploy` builds `services/`
   * (a DockerImageAsset: synth stays offline and needs no Docker).
   */
  readonly image?: { readonly repository: string; readonly tag: string };
  /** The bootstrap admin's email (its password is generated into the AdminAccount secret; it grants roles). */
  readonly adminEmail: string;
  /** LOG_LEVEL of every workload. */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  readonly shutdown: ShutdownConfig;
  readonly registry: {
    /** etcd image pinned by version (3.6.x). */
    readonly image: string;
    /** 3 or 5 members. */
    readonly members: number;
    readonly storageGiB: number;
    /** Backend quota in MiB (`--quota-backend-bytes`), 256 to 8192. */
    readonly quotaMiB: number;
    /** Periodic compaction retention, e.g. `1h`. */
    readonly compactionRetention: string;
    readonly resources: ResourceSettings;
  };
  readonly gateway: DeploymentSettings & {
    /** JWT issuer and audience the user service signs and the gateway checks. */
    readonly jwtIssuer: string;
    readonly jwtAudience: string;
    /** Origins the gateway answers CORS for (the CloudFront site serves the app itself). */
    readonly corsOrigins: string[];
  };
  readonly services: { readonly user: DeploymentSettings; readonly catalog: DeploymentSettings; readonly order: DeploymentSettings };
  /** The release gate: a smoke journey Job per release that `cdk deploy` waits for. */
  readonly smoke: {
    /** Wait for the smoke Job in `cdk deploy` (a failed journey rolls the workloads stack back). */
    readonly gate: boolean;
    /** Let the journey check out one item (takes real stock: off in prod). */
    readonly checkout: boolean;
    /** Budget of each step in ms. */
    readonly stepBudgetMs: number;
    /** activeDeadlineSeconds of the smoke Job (retries included); the gate waits this + 120 s. */
    readonly deadlineSeconds: number;
  };
  /** The journey in a loop as a Deployment, with Prometheus metrics (dev and staging). */
  readonly loadgen: { readonly enabled: boolean; readonly ratePerSecond: number; readonly concurrency: number };
  readonly jobs: {
    readonly orderTimeout: { readonly schedule: string; readonly shards: number; readonly timeoutMinutes: number; readonly activeDeadlineSeconds: number; readonly backoffLimit: number; readonly resources: ResourceSettings };
    readonly searchSync: { readonly schedule: string; readonly activeDeadlineSeconds: number; readonly backoffLimit: number; readonly resources: ResourceSettings; readonly follow: DeploymentSettings };
  };
}

/**
 * The timeout chain, one place for every layer: each answers before the layer around it gives up,
 * so a client gets the innermost layer's own answer (a service's 503), never an ambiguous 504.
 * service < gateway < load balancer < CDN, checked by validation.
 */
export interface TimeoutsConfig {
  /** REQUEST_BUDGET_MS of the services: each answers within it (every wait inside is a share of it). */
  readonly serviceRequestMs: number;
  /** CLIENT_TIMEOUT_MS of the gateway: one request's upstream call, retries included. */
  readonly gatewayUpstreamMs: number;
  /** Idle timeout of the ALB, seconds: how long it waits on the gateway. */
  readonly loadBalancerIdleSeconds: number;
  /** CloudFront's read timeout on the API origin, seconds (1 to 60). */
  readonly cdnOriginReadSeconds: number;
}

/** Service level objectives of the API (the gateway's answers), for the burn-rate alerts. */
export interface SloConfig {
  /** Target ratio of non-5xx answers over 30 days, e.g. `0.999` (0.9 to 0.99999). */
  readonly availability: number;
  /** Latency objective: the gateway's p99 in milliseconds, e.g. `300` (10 to 60000). */
  readonly latencyP99Ms: number;
}

/** Distributed tracing (OpenTelemetry in the services kit, exported to a collector and AWS X-Ray). */
export interface TracingConfig {
  /** Turn tracing on; off costs nothing (no SDK loaded). */
  readonly enabled: boolean;
  /** Head sampling ratio for traces started at the gateway, 0 to 1 (parent-based below it). */
  readonly sampleRatio: number;
}

/** Alarms, dashboards, service metrics, logs and traces of one environment. */
export interface ObservabilityConfig {
  /** Email addresses subscribed to the environment's alarm topic (each confirms once). May be empty. */
  readonly alarmEmails: string[];
  /** HTTPS endpoints (e.g. a chat webhook relay) subscribed to the alarm topic. May be empty. */
  readonly alarmHttpsEndpoints: string[];
  /** Retention of the services' and the cluster agents' log groups in days (a CloudWatch Logs value). */
  readonly logRetentionDays: number;
  readonly slo: SloConfig;
  readonly tracing: TracingConfig;
  /**
   * Amazon Managed Service for Prometheus: a workspace, an AWS managed scraper of the pods'
   * /metrics and the SLO burn-rate and component rules (about USD 44 a month at dev's size, most of
   * it the scraper's hourly fee). Off: the CloudWatch alarms, Container Insights and the dashboard
   * remain; the SLO burn-rate alerts do not exist.
   */
  readonly managedPrometheus: boolean;
}

export interface PlatformConfig {
  /** Environment name; also the tag `environment`. */
  readonly envName: EnvironmentName;
  /** Application name: prefix of stack names and the tag `application`. */
  readonly appName: string;
  /** Target account. Synth needs none; falls back to CDK_DEFAULT_ACCOUNT. */
  readonly account?: string;
  /** Target region, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * Data protection: when true (prod), data stores and buckets are retained or snapshotted
   * on stack delete and have deletion protection; when false (dev) they are destroyed.
   */
  readonly retainData: boolean;
  /**
   * Monthly cost budget in USD: synth adds an AWS Budgets budget alerting at 80 % and 100 % (stack
   * `<app>-<env>-budget`), and `npm run plan` warns when its estimate exceeds it.
   */
  readonly budgetUsdPerMonth: number;
  readonly network: NetworkConfig;
  readonly mysql: MysqlConfig;
  readonly redis: RedisConfig;
  readonly search: SearchConfig;
  readonly buckets: BucketsConfig;
  /** AWS Backup plan for RDS and the uploads bucket; required in staging and prod, optional in dev. */
  readonly backup?: BackupConfig;
  readonly cluster: ClusterConfig;
  readonly edge: EdgeConfig;
  readonly timeouts: TimeoutsConfig;
  /** Alarms (on by default in every construct), the alarm topic, dashboards, SLOs and tracing. */
  readonly observability: ObservabilityConfig;
  /** The platform's own workloads on the cluster (cdk8s charts, deployed by the workloads stack). */
  readonly workloads: WorkloadsConfig;
}
