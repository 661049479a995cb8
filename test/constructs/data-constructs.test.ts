import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AssetBuckets, MysqlDatabase, RedisCluster, RedisEngine, SearchDomain } from '../../lib/constructs';
import { consumerStack } from '../support/consumer';
import { rulePackFindings } from '../support/synth';

const bareStack = (app?: App) => consumerStack({ app });

describe('data constructs used alone, with their defaults', () => {
  const { stack, vpc, apps } = bareStack();
  const mysql = new MysqlDatabase(stack, 'Db', { vpc, allowFrom: [apps] });
  const redis = new RedisCluster(stack, 'Cache', { vpc, allowFrom: [apps] });
  const search = new SearchDomain(stack, 'Search', { vpc, allowFrom: [apps] });
  const buckets = new AssetBuckets(stack, 'Buckets', { uploadCorsOrigins: ['https://shop.example.com'] });
  const template = Template.fromStack(stack);

  test('secure defaults: retained or snapshotted data, Multi-AZ, non-default ports', () => {
    template.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', Properties: Match.objectLike({ MultiAZ: true, DeletionProtection: true, Port: '13306' }) });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot', Properties: Match.objectLike({ Port: 16379, NumNodeGroups: 1, ReplicasPerNodeGroup: 1 }) });
    template.hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Retain' });
    for (const [, bucket] of Object.entries(template.findResources('AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Retain');
  });

  test('every created resource is reachable as a public field', () => {
    expect(mysql.instance.instanceIdentifier).toBeDefined();
    expect([mysql.securityGroup, mysql.parameterGroup, mysql.optionGroup, mysql.subnetGroup, mysql.monitoringRole, mysql.logsKey, ...mysql.logGroups]).not.toContain(undefined);
    expect([redis.replicationGroup, redis.userGroup, redis.user, redis.disabledDefaultUser, redis.userSecret, redis.subnetGroup, redis.slowLog, redis.engineLog]).not.toContain(undefined);
    expect(redis.configurationEndpoint).toBeDefined();
    expect([search.domain, search.securityGroup, search.logGroup, search.logsResourcePolicy, search.encryptionKey, search.masterUserSecret]).not.toContain(undefined);
    expect([buckets.staticAssets, buckets.uploads, buckets.accessLogs, buckets.encryptionKey]).not.toContain(undefined);
  });

  test('the OpenSearch master user secret is on the domain key and feeds the domain', () => {
    const secret = template.toJSON().Resources[stack.getLogicalId(search.masterUserSecret!.node.defaultChild as any)];
    expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(search.encryptionKey.node.defaultChild as any), 'Arn'] });
    const domain = Object.values(template.findResources('AWS::OpenSearchService::Domain'))[0];
    expect(JSON.stringify(domain.Properties.AdvancedSecurityOptions.MasterUserOptions.MasterUserPassword))
      .toContain(stack.getLogicalId(search.masterUserSecret!.node.defaultChild as any));
  });

  test('allowFrom adds a rule for a late caller', () => {
    const other = bareStack();
    const db = new MysqlDatabase(other.stack, 'Db', { vpc: other.vpc, allowFrom: [other.apps] });
    db.allowFrom(new ec2.SecurityGroup(other.stack, 'Jobs', { vpc: other.vpc }));
    const rules = Object.values(Template.fromStack(other.stack).findResources('AWS::EC2::SecurityGroupIngress')).filter((r: any) => r.Properties.FromPort === 13306);
    expect(rules).toHaveLength(2);
  });

  test('a consumer app with the constructs passes both rule packs', () => {
    const fresh = bareStack();
    new MysqlDatabase(fresh.stack, 'Db', { vpc: fresh.vpc, allowFrom: [fresh.apps], removalPolicy: RemovalPolicy.DESTROY, multiAz: false, alarmTopic: fresh.alarmTopic });
    new RedisCluster(fresh.stack, 'Cache', { vpc: fresh.vpc, allowFrom: [fresh.apps], engine: RedisEngine.VALKEY, alarmTopic: fresh.alarmTopic });
    new AssetBuckets(fresh.stack, 'Buckets');
    // The consumer's own VPC and flow logs are its business; only the constructs are judged here.
    const findings = rulePackFindings(fresh.app).filter((f) => !f.path.startsWith('Consumer/Vpc') && !f.path.startsWith('Consumer/Custom::Vpc'));
    expect(findings).toEqual([]);
  });
});

describe('clear errors for bad props', () => {
  test.each<[string, (s: ReturnType<typeof bareStack>) => void, RegExp]>([
    ['Redis with no shards', ({ stack, vpc, apps }) => new RedisCluster(stack, 'R', { vpc, allowFrom: [apps], shards: 0 }), /RedisCluster: shards must be an integer from 1 to 500 \(got 0\)/],
    ['Redis without a replica', ({ stack, vpc, apps }) => new RedisCluster(stack, 'R', { vpc, allowFrom: [apps], replicasPerShard: 0 }), /RedisCluster: replicasPerShard .* automatic failover needs a replica/],
    ['Redis open to nobody', ({ stack, vpc }) => new RedisCluster(stack, 'R', { vpc, allowFrom: [] }), /RedisCluster: allowFrom needs at least one security group/],
    ['MySQL open to nobody', ({ stack, vpc }) => new MysqlDatabase(stack, 'M', { vpc, allowFrom: [] }), /MysqlDatabase: allowFrom needs at least one security group/],
    ['OpenSearch nodes not a multiple of zones', ({ stack, vpc, apps }) => new SearchDomain(stack, 'S', { vpc, allowFrom: [apps], dataNodes: 3, zoneCount: 2 }), /SearchDomain: dataNodes \(3\) must be a multiple of zoneCount \(2\)/],
  ])('%s', (_name, create, message) => {
    expect(() => create(bareStack())).toThrow(message);
  });
});
