/**
 * Typed per-environment parameters. One interface, one const per environment
 * (lib/config/environments.ts), validated by lib/config/validate.ts before any
 * construct is created, so a bad value fails synth naming the field.
 */

/** The environments this app knows. */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Subnet ids of an existing VPC, one per availability zone, in the same order. */
export interface ExistingVpcConfig {
  /** VPC id, `vpc-` followed by hex. */
  readonly vpcId: string;
  /** CIDR of the existing VPC (used for security group rules and documentation). */
  readonly vpcCidr: string;
  /** Public subnets (ALB). One per availability zone. */
  readonly publicSubnetIds: string[];
  /** Private subnets with egress (EKS nodes, OpenSearch). One per availability zone. */
  readonly privateSubnetIds: string[];
  /** Isolated subnets (RDS, ElastiCache). One per availability zone. */
  readonly isolatedSubnetIds: string[];
}

export interface NetworkConfig {
  /** CIDR block of the VPC, e.g. `10.20.0.0/16`. Prefix length 16 to 24. */
  readonly vpcCidr: string;
  /** How many availability zones to spread over (2 or 3; prod needs 3... or at least 2). */
  readonly maxAzs: number;
  /** NAT gateways (1 in dev to save cost, one per AZ in prod). */
  readonly natGateways: number;
  /**
   * Interface VPC endpoints to create, by service name as in `ec2.InterfaceVpcEndpointAwsService`
   * (e.g. `ECR`, `ECR_DOCKER`, `SECRETS_MANAGER`, `STS`, `CLOUDWATCH_LOGS`).
   */
  readonly interfaceEndpoints: string[];
  /** Retention of the VPC flow logs in days. */
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
  /** Automated backup retention in days (1 to 35). */
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
  readonly network: NetworkConfig;
  readonly mysql: MysqlConfig;
  readonly redis: RedisConfig;
  readonly search: SearchConfig;
  readonly buckets: BucketsConfig;
}
