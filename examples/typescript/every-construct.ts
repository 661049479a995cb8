// Every construct of the library in one stack, wired the way the platform wires them.
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  AssetBuckets, Cdn, DataBackup, EdgeWebAcl, EncryptedBackupVault, EncryptionKey, ManagedPrometheus, MysqlDatabase, PlatformCluster,
  RedisCluster, RedisEngine, SearchDomain, StickyLoadBalancer, VaultLockMode, WebAclScope,
} from 'eks-microservices-platform';

const app = new App();
const stack = new Stack(app, 'Platform', { env: { region: 'eu-west-1' } });
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  subnetConfiguration: [
    { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
    { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  ],
});
const workloads = new ec2.SecurityGroup(stack, 'Workloads', { vpc });

const key = new EncryptionKey(stack, 'Key', { description: 'Encrypts the application logs', cloudWatchLogs: true });
key.logGroup(stack, 'AppLogs', { retention: logs.RetentionDays.ONE_YEAR });

const database = new MysqlDatabase(stack, 'Database', { vpc, allowFrom: [workloads], multiAz: false });
const redis = new RedisCluster(stack, 'Redis', { vpc, allowFrom: [workloads], engine: RedisEngine.VALKEY });
const search = new SearchDomain(stack, 'Search', { vpc, allowFrom: [workloads] });
const buckets = new AssetBuckets(stack, 'Buckets');

const cluster = new PlatformCluster(stack, 'Cluster', { vpc, nodeSecurityGroups: [workloads] });
cluster.addServiceAccount('Worker', { name: 'worker', namespace: 'default' });
const metrics = new ManagedPrometheus(stack, 'Metrics', { cluster: cluster.cluster, namespaces: ['default'], metricsPorts: [8080] });

const alb = new StickyLoadBalancer(stack, 'Alb', { vpc, targetPort: 8080, accessLogsBucket: buckets.accessLogs, healthCheckPath: '/healthz' });
const webAcl = new EdgeWebAcl(stack, 'WebAcl', { scope: WebAclScope.REGIONAL, rateLimitPer5Min: 1000 });
const cdn = new Cdn(stack, 'Cdn', {
  staticAssetsBucket: buckets.staticAssets,
  logBucket: buckets.accessLogs,
  apiOrigin: { loadBalancer: alb.loadBalancer, protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY },
});

const vault = new EncryptedBackupVault(stack, 'Vault', { lockMode: VaultLockMode.GOVERNANCE, minRetention: Duration.days(7) });
const backup = new DataBackup(stack, 'Backup', { databaseInstances: [database.instance], buckets: [buckets.uploads], retention: Duration.days(35) });

// Typed public fields, as a platform team reaches into them.
const reached: string[] = [redis.configurationEndpoint, search.endpoint, cluster.clusterName, webAcl.arn, cdn.distribution.distributionId,
  vault.vault.backupVaultName, backup.plan.backupPlanId, database.secretArn, metrics.workspace.attrArn];
if (reached.some((v) => typeof v !== 'string')) throw new Error('a public field is not a string');
app.synth();
