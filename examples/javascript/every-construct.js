// Every construct of the library in one stack, wired the way the platform wires them.
const { App, Duration, Stack } = require('aws-cdk-lib');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const ec2 = require('aws-cdk-lib/aws-ec2');
const logs = require('aws-cdk-lib/aws-logs');
const {
  AssetBuckets, Cdn, DataBackup, EdgeWebAcl, EncryptedBackupVault, EncryptionKey, ManagedPrometheus, MysqlDatabase, PlatformCluster,
  RedisCluster, RedisEngine, SearchDomain, StickyLoadBalancer, VaultLockMode, WebAclScope,
} = require('eks-microservices-platform');

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
new RedisCluster(stack, 'Redis', { vpc, allowFrom: [workloads], engine: RedisEngine.VALKEY });
new SearchDomain(stack, 'Search', { vpc, allowFrom: [workloads] });
const buckets = new AssetBuckets(stack, 'Buckets');

const cluster = new PlatformCluster(stack, 'Cluster', { vpc, nodeSecurityGroups: [workloads] });
cluster.addServiceAccount('Worker', { name: 'worker', namespace: 'default' });
new ManagedPrometheus(stack, 'Metrics', { cluster: cluster.cluster, namespaces: ['default'], metricsPorts: [8080] });

const alb = new StickyLoadBalancer(stack, 'Alb', { vpc, targetPort: 8080, accessLogsBucket: buckets.accessLogs, healthCheckPath: '/healthz' });
new EdgeWebAcl(stack, 'WebAcl', { scope: WebAclScope.REGIONAL, rateLimitPer5Min: 1000 });
new Cdn(stack, 'Cdn', {
  staticAssetsBucket: buckets.staticAssets,
  logBucket: buckets.accessLogs,
  apiOrigin: { loadBalancer: alb.loadBalancer, protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY },
});

new EncryptedBackupVault(stack, 'Vault', { lockMode: VaultLockMode.GOVERNANCE, minRetention: Duration.days(7) });
new DataBackup(stack, 'Backup', { databaseInstances: [database.instance], buckets: [buckets.uploads], retention: Duration.days(35) });
app.synth();
