import { EnvironmentName, PlatformConfig } from './types';

const APP = 'platform';

/** dev: small and cheap, two AZs, one NAT, single nodes, data destroyed with the stack. */
export const dev: PlatformConfig = {
  envName: 'dev',
  appName: APP,
  region: 'eu-west-1',
  retainData: false,
  network: {
    vpcCidr: '10.10.0.0/16',
    maxAzs: 2,
    natGateways: 1,
    interfaceEndpoints: [],
    flowLogRetentionDays: 14,
  },
  mysql: {
    instanceType: 't4g.medium',
    multiAz: false,
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    backupRetentionDays: 1,
    databaseName: 'platform',
  },
  redis: {
    engine: 'redis',
    nodeType: 'cache.t4g.small',
    shards: 1,
    replicasPerShard: 1,
    snapshotRetentionDays: 1,
  },
  search: {
    dataNodeType: 't3.medium.search',
    dataNodes: 1,
    zoneCount: 1,
    volumeSizeGiB: 20,
  },
  buckets: {
    noncurrentVersionExpirationDays: 7,
    accessLogRetentionDays: 30,
    uploadCorsOrigins: ['http://localhost:3000'],
  },
};

/** staging: production shape at a smaller size, data retained. */
export const staging: PlatformConfig = {
  ...dev,
  envName: 'staging',
  retainData: true,
  network: { ...dev.network, vpcCidr: '10.20.0.0/16', maxAzs: 3, natGateways: 1, flowLogRetentionDays: 30 },
  mysql: { ...dev.mysql, instanceType: 'm7g.large', multiAz: true, allocatedStorageGiB: 50, maxAllocatedStorageGiB: 200, backupRetentionDays: 7 },
  redis: { ...dev.redis, nodeType: 'cache.m7g.large', shards: 2, replicasPerShard: 1, snapshotRetentionDays: 3 },
  search: { dataNodeType: 'm7g.large.search', dataNodes: 2, zoneCount: 2, masterNodeType: 'm7g.large.search', masterNodes: 3, volumeSizeGiB: 50 },
  buckets: { ...dev.buckets, noncurrentVersionExpirationDays: 30, accessLogRetentionDays: 90, uploadCorsOrigins: ['https://staging.example.com'] },
};

/** prod: Multi-AZ everywhere, deletion protection, snapshots/retain on every data store. */
export const prod: PlatformConfig = {
  ...dev,
  envName: 'prod',
  retainData: true,
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
};

export const ENVIRONMENTS: Record<EnvironmentName, PlatformConfig> = { dev, staging, prod };
