import { DeploymentSettings, EnvironmentName, PlatformConfig, ResourceSettings, WorkloadsConfig } from './types';

const APP = 'platform';

const res = (cpuRequestMillis: number, cpuLimitMillis: number, memoryRequestMiB: number, memoryLimitMiB: number): ResourceSettings =>
  ({ cpuRequestMillis, cpuLimitMillis, memoryRequestMiB, memoryLimitMiB });
const deployment = (minReplicas: number, maxReplicas: number, resources: ResourceSettings): DeploymentSettings =>
  ({ scale: { minReplicas, maxReplicas, targetCpuPercent: 70 }, resources });

/** dev: one replica each, small requests. */
const devWorkloads: WorkloadsConfig = {
  namespace: 'platform',
  adminEmail: 'platform-admin@example.com',
  logLevel: 'info',
  shutdown: { preStopSeconds: 5, graceMs: 1000, drainMs: 10_000 },
  registry: { image: 'gcr.io/etcd-development/etcd:v3.6.16', members: 3, storageGiB: 5, quotaMiB: 2048, compactionRetention: '1h', resources: res(100, 500, 256, 512) },
  gateway: { ...deployment(1, 3, res(250, 1000, 192, 384)), jwtIssuer: 'platform-user', jwtAudience: 'platform-api', corsOrigins: [] },
  services: {
    user: deployment(1, 3, res(200, 1000, 192, 384)),
    catalog: deployment(1, 3, res(200, 1000, 192, 384)),
    order: deployment(1, 3, res(200, 1000, 192, 384)),
  },
  smoke: { gate: true, checkout: true, stepBudgetMs: 2000, deadlineSeconds: 420 },
  loadgen: { enabled: true, ratePerSecond: 1, concurrency: 2 },
  jobs: {
    orderTimeout: { schedule: '* * * * *', shards: 1, timeoutMinutes: 30, activeDeadlineSeconds: 50, backoffLimit: 1, resources: res(100, 500, 128, 256) },
    searchSync: { schedule: '0 3 * * *', activeDeadlineSeconds: 3600, backoffLimit: 2, resources: res(200, 1000, 256, 512), follow: deployment(1, 2, res(100, 500, 192, 384)) },
  },
};

/** dev: small and cheap, two AZs, one NAT, single nodes, data destroyed with the stack. */
export const dev: PlatformConfig = {
  envName: 'dev',
  appName: APP,
  region: 'eu-west-1',
  retainData: false,
  // npm run plan estimates dev at idle under this, on demand (README, "Plan"); the sizes below are the cheap end.
  budgetUsdPerMonth: 350,
  network: {
    vpcCidr: '10.10.0.0/16',
    maxAzs: 2,
    natGateways: 1,
    // A NAT instance (about USD 10 a month with its address, monitoring and disk) instead of a NAT gateway (39 with its address).
    natInstanceType: 't4g.nano',
    interfaceEndpoints: [],
    flowLogRetentionDays: 14,
  },
  mysql: {
    instanceType: 't4g.micro',
    multiAz: false,
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    backupRetentionDays: 7,
    databaseName: 'platform',
  },
  redis: {
    engine: 'redis',
    nodeType: 'cache.t4g.micro',
    shards: 1,
    replicasPerShard: 1,
    snapshotRetentionDays: 1,
  },
  search: {
    dataNodeType: 't3.small.search',
    dataNodes: 1,
    zoneCount: 1,
    volumeSizeGiB: 20,
  },
  buckets: {
    noncurrentVersionExpirationDays: 7,
    accessLogRetentionDays: 30,
    uploadCorsOrigins: ['http://localhost:3000'],
  },
  cluster: {
    kubernetesVersion: '1.35',
    endpointAccess: 'public-and-private',
    // Documentation range (RFC 5737): replace with your office / VPN egress CIDRs.
    publicAccessCidrs: ['203.0.113.0/24'],
    // Three small nodes: the registry's three etcd members each need a node of their own (required anti-affinity).
    nodeInstanceTypes: ['t4g.small'],
    capacityType: 'ON_DEMAND',
    minNodes: 3,
    maxNodes: 4,
    desiredNodes: 3,
    nodeDiskGiB: 20,
    // 11 pods a node without prefixes: the add-ons' six DaemonSets, their controllers and the
    // platform (about 36 pods) would not fit in three. 24 reserves 519 MiB a node for the kubelet.
    maxPodsPerNode: 24,
    adminPrincipalArns: [],
    logRetentionDays: 14,
  },
  edge: {
    gatewayPort: 8080,
    healthCheckPath: '/healthz',
    deregistrationDelaySeconds: 15,
    slowStartSeconds: 0,
    stickiness: { mode: 'lb_cookie', durationSeconds: 3600 },
    sessionCookieName: 'sid',
    apiDefaultTtlSeconds: 10,
    priceClass: '100',
    waf: { rateLimitPer5Min: 2000, allowCidrs: [], denyCidrs: [] },
  },
  timeouts: { serviceRequestMs: 4000, gatewayUpstreamMs: 5000, loadBalancerIdleSeconds: 15, cdnOriginReadSeconds: 30 },
  observability: {
    alarmEmails: [],
    alarmHttpsEndpoints: [],
    logRetentionDays: 7,
    slo: { availability: 0.99, latencyP99Ms: 500 },
    tracing: { enabled: true, sampleRatio: 1 },
    // The SLO burn-rate rules in every env. About USD 44 a month of dev's 324, most of it the
    // managed scraper's hourly fee: false brings dev to about 281 (README, "Plan").
    managedPrometheus: true,
  },
  workloads: devWorkloads,
};

/**
 * Placeholder certificates (account 111111111111, an all-zero id): a team replaces them, and the
 * example.com names, with its own before deploying staging or prod. See the README, "Certificates".
 */
const PLACEHOLDER_CERTIFICATE = (region: string, n: number) => `arn:aws:acm:${region}:111111111111:certificate/00000000-0000-0000-0000-00000000000${n}`;

/** staging: production shape at a smaller size, data retained. */
export const staging: PlatformConfig = {
  ...dev,
  envName: 'staging',
  retainData: true,
  budgetUsdPerMonth: 2200,
  network: { ...dev.network, vpcCidr: '10.20.0.0/16', maxAzs: 3, natGateways: 1, natInstanceType: undefined, flowLogRetentionDays: 30 },
  mysql: { ...dev.mysql, instanceType: 'm7g.large', multiAz: true, allocatedStorageGiB: 50, maxAllocatedStorageGiB: 200, backupRetentionDays: 7 },
  redis: { ...dev.redis, nodeType: 'cache.m7g.large', shards: 2, replicasPerShard: 1, snapshotRetentionDays: 3 },
  search: { dataNodeType: 'm7g.large.search', dataNodes: 2, zoneCount: 2, masterNodeType: 'm7g.large.search', masterNodes: 3, volumeSizeGiB: 50 },
  buckets: { ...dev.buckets, noncurrentVersionExpirationDays: 30, accessLogRetentionDays: 90, uploadCorsOrigins: ['https://staging.example.com'] },
  cluster: { ...dev.cluster, endpointAccess: 'private', publicAccessCidrs: [], nodeInstanceTypes: ['m7g.large'], minNodes: 2, maxNodes: 6, desiredNodes: 3, nodeDiskGiB: 50, maxPodsPerNode: undefined, logRetentionDays: 30 },
  edge: {
    ...dev.edge,
    slowStartSeconds: 30,
    deregistrationDelaySeconds: 30,
    stickiness: { mode: 'app_cookie', durationSeconds: 86400, appCookieName: 'sid' },
    domainName: 'staging.example.com',
    cdnCertificateArn: PLACEHOLDER_CERTIFICATE('us-east-1', 1),
    albCertificateArn: PLACEHOLDER_CERTIFICATE('eu-west-1', 2),
  },
  backup: { retentionDays: 35, vaultLock: 'none' },
  observability: {
    ...dev.observability,
    logRetentionDays: 30,
    slo: { availability: 0.995, latencyP99Ms: 400 },
    tracing: { enabled: true, sampleRatio: 0.2 },
    managedPrometheus: true,
  },
  workloads: {
    ...devWorkloads,
    shutdown: { preStopSeconds: 15, graceMs: 1000, drainMs: 10_000 },
    registry: { ...devWorkloads.registry, storageGiB: 10 },
    gateway: { ...devWorkloads.gateway, ...deployment(2, 6, res(500, 1500, 256, 512)), corsOrigins: ['https://staging.example.com'] },
    services: {
      user: deployment(2, 6, res(250, 1000, 256, 512)),
      catalog: deployment(2, 6, res(250, 1000, 256, 512)),
      order: deployment(2, 6, res(250, 1000, 256, 512)),
    },
  },
};

/** prod: Multi-AZ everywhere, deletion protection, snapshots/retain on every data store. */
export const prod: PlatformConfig = {
  ...dev,
  envName: 'prod',
  retainData: true,
  budgetUsdPerMonth: 5000,
  network: {
    vpcCidr: '10.30.0.0/16',
    maxAzs: 3,
    natGateways: 3,
    interfaceEndpoints: ['ECR', 'ECR_DOCKER', 'STS', 'SECRETS_MANAGER', 'CLOUDWATCH_LOGS'],
    flowLogRetentionDays: 365,
  },
  mysql: {
    instanceType: 'r7g.large',
    multiAz: true,
    allocatedStorageGiB: 100,
    maxAllocatedStorageGiB: 1000,
    backupRetentionDays: 14,
    databaseName: 'platform',
  },
  redis: { engine: 'redis', nodeType: 'cache.r7g.large', shards: 3, replicasPerShard: 2, snapshotRetentionDays: 7 },
  search: { dataNodeType: 'r7g.large.search', dataNodes: 3, zoneCount: 3, masterNodeType: 'm7g.large.search', masterNodes: 3, volumeSizeGiB: 200 },
  buckets: { noncurrentVersionExpirationDays: 90, accessLogRetentionDays: 365, uploadCorsOrigins: ['https://www.example.com'] },
  cluster: {
    kubernetesVersion: '1.35',
    endpointAccess: 'private',
    publicAccessCidrs: [],
    nodeInstanceTypes: ['m7g.xlarge'],
    capacityType: 'ON_DEMAND',
    minNodes: 3,
    maxNodes: 12,
    desiredNodes: 3,
    nodeDiskGiB: 80,
    adminPrincipalArns: [],
    logRetentionDays: 365,
  },
  edge: {
    gatewayPort: 8080,
    healthCheckPath: '/healthz',
    deregistrationDelaySeconds: 30,
    slowStartSeconds: 60,
    stickiness: { mode: 'app_cookie', durationSeconds: 86400, appCookieName: 'sid' },
    sessionCookieName: 'sid',
    apiDefaultTtlSeconds: 10,
    priceClass: 'All',
    waf: { rateLimitPer5Min: 2000, allowCidrs: [], denyCidrs: [] },
    domainName: 'www.example.com',
    cdnCertificateArn: PLACEHOLDER_CERTIFICATE('us-east-1', 3),
    albCertificateArn: PLACEHOLDER_CERTIFICATE('eu-west-1', 4),
  },
  workloads: {
    ...devWorkloads,
    shutdown: { preStopSeconds: 15, graceMs: 1000, drainMs: 10_000 },
    registry: { ...devWorkloads.registry, storageGiB: 20, quotaMiB: 4096, resources: res(500, 2000, 512, 1024) },
    gateway: { ...devWorkloads.gateway, ...deployment(3, 12, res(1000, 2000, 384, 768)), corsOrigins: ['https://www.example.com'] },
    services: {
      user: deployment(3, 12, res(500, 2000, 384, 768)),
      catalog: deployment(3, 12, res(500, 2000, 384, 768)),
      order: deployment(3, 12, res(500, 2000, 384, 768)),
    },
    smoke: { ...devWorkloads.smoke, checkout: false, stepBudgetMs: 1500 },
    loadgen: { ...devWorkloads.loadgen, enabled: false },
    jobs: {
      orderTimeout: { ...devWorkloads.jobs.orderTimeout, shards: 3, resources: res(200, 1000, 256, 512) },
      searchSync: { ...devWorkloads.jobs.searchSync, activeDeadlineSeconds: 7200, resources: res(500, 2000, 512, 1024), follow: deployment(2, 4, res(250, 1000, 256, 512)) },
    },
  },
  // A cross-region copy is one line: copyRegion: 'eu-central-1' (a second vault, locked the same way).
  backup: { retentionDays: 90, vaultLock: 'compliance' },
  observability: {
    // A team adds its on-call addresses here (or an HTTPS relay to its chat); each email confirms once.
    alarmEmails: [],
    alarmHttpsEndpoints: [],
    logRetentionDays: 365,
    slo: { availability: 0.999, latencyP99Ms: 300 },
    tracing: { enabled: true, sampleRatio: 0.05 },
    managedPrometheus: true,
  },
};

export const ENVIRONMENTS: Record<EnvironmentName, PlatformConfig> = { dev, staging, prod };
