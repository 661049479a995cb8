// Every construct of the library in one stack, wired the way the platform wires them.
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  AlarmTopic, AssetBuckets, Cdn, CdnAlarms, DataBackup, EdgeWebAcl, EncryptedBackupVault, EncryptionKey, ManagedPrometheus, MysqlDatabase, PlatformCluster,
  RedisCluster, RedisEngine, SearchDomain, StickyLoadBalancer, VaultLockMode, WebAclScope,
} from 'eks-microservices-platform';

const app = new App();
// us-east-1: CloudFront publishes its metrics there, so CdnAlarms can live in this stack.
const stack = new Stack(app, 'Platform', { env: { region: 'us-east-1' } });
const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  subnetConfiguration: [
    { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
    { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
  ],
});
const workloads = new ec2.SecurityGroup(stack, 'Workloads', { vpc });
// Every alarm of every construct notifies this topic (email and HTTPS subscribers optional).
const alarmTopic = new AlarmTopic(stack, 'Alarms', { emails: ['oncall@example.com'] }).topic;

const key = new EncryptionKey(stack, 'Key', { description: 'Encrypts the application logs', cloudWatchLogs: true });
key.logGroup(stack, 'AppLogs', { retention: logs.RetentionDays.ONE_YEAR });

const database = new MysqlDatabase(stack, 'Database', { vpc, allowFrom: [workloads], multiAz: false, alarmTopic });
const redis = new RedisCluster(stack, 'Redis', { vpc, allowFrom: [workloads], engine: RedisEngine.VALKEY, alarmTopic });
const search = new SearchDomain(stack, 'Search', { vpc, allowFrom: [workloads], alarmTopic });
const buckets = new AssetBuckets(stack, 'Buckets');

const cluster = new PlatformCluster(stack, 'Cluster', { vpc, nodeSecurityGroups: [workloads], alarmTopic, alarmNamespaces: ['default'] });
cluster.addServiceAccount('Worker', { name: 'worker', namespace: 'default' });
const metrics = new ManagedPrometheus(stack, 'Metrics', { cluster: cluster.cluster, namespaces: ['default'], metricsPorts: [8080] });

const alb = new StickyLoadBalancer(stack, 'Alb', { vpc, targetPort: 8080, accessLogsBucket: buckets.accessLogs, healthCheckPath: '/healthz', alarmTopic });
const webAcl = new EdgeWebAcl(stack, 'WebAcl', { scope: WebAclScope.REGIONAL, rateLimitPer5Min: 1000, alarmTopic });
const cdn = new Cdn(stack, 'Cdn', {
  staticAssetsBucket: buckets.staticAssets,
  logBucket: buckets.accessLogs,
  apiOrigin: { loadBalancer: alb.loadBalancer, protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY },
  // Its alarms come from the CdnAlarms below, the way a Cdn outside us-east-1 gets them.
  alarms: false,
});
new CdnAlarms(stack, 'CdnAlarms', { distribution: cdn.distribution, alarmTopic });

const vault = new EncryptedBackupVault(stack, 'Vault', { lockMode: VaultLockMode.GOVERNANCE, minRetention: Duration.days(7) });
const backup = new DataBackup(stack, 'Backup', { databaseInstances: [database.instance], buckets: [buckets.uploads], retention: Duration.days(35) });

// Typed public fields, as a platform team reaches into them.
const reached: string[] = [redis.configurationEndpoint, search.endpoint, cluster.clusterName, webAcl.arn, cdn.distribution.distributionId,
  vault.vault.backupVaultName, backup.plan.backupPlanId, database.secretArn, metrics.workspace.attrArn];
if (reached.some((v) => typeof v !== 'string')) throw new Error('a public field is not a string');
app.synth();
