/**
 * The alarms every construct creates by default: which metrics, at which documented thresholds,
 * each notifying the alarm topic (alarm and OK), and none with `alarms: false`.
 */
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AlarmTopic, Cdn, CdnAlarms, EdgeWebAcl, MysqlDatabase, PlatformCluster, RedisCluster, SearchDomain, StickyLoadBalancer,
} from '../../lib/constructs';
import { consumerStack } from '../support/consumer';

function setup(region = 'eu-west-1') {
  const { stack, vpc, apps, alarmTopic: topic } = consumerStack({ id: 'Test', region });
  return { stack, vpc, apps, topic };
}

interface AlarmRow { readonly metric: string; readonly threshold: number; readonly comparison: string; readonly periods: number; readonly dimensions: Record<string, unknown> }

/** Every alarm of the stack, by metric name (math expressions by their expression). */
function alarmsOf(stack: Stack): AlarmRow[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).map((a: any) => {
    const p = a.Properties;
    const dims = Object.fromEntries((p.Dimensions ?? []).map((d: any) => [d.Name, d.Value]));
    const metric = p.MetricName ?? p.Metrics?.find((m: any) => m.Expression)?.Expression;
    return { metric, threshold: p.Threshold, comparison: p.ComparisonOperator, periods: p.EvaluationPeriods, dimensions: dims };
  });
}

/** Every alarm notifies the topic on ALARM and OK. */
function expectActionsTo(stack: Stack, topic: sns.ITopic) {
  const ref = { Ref: stack.getLogicalId((topic as sns.Topic).node.defaultChild as any) };
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
  expect(alarms.length).toBeGreaterThan(0);
  for (const a of alarms as any[]) {
    expect(a.Properties.AlarmActions).toEqual([ref]);
    expect(a.Properties.OKActions).toEqual([ref]);
    expect(a.Properties.AlarmDescription.length).toBeGreaterThan(40);
  }
}

const thresholds = (rows: AlarmRow[]) => Object.fromEntries(rows.map((r) => [r.metric, r.threshold]));

describe('MysqlDatabase alarms', () => {
  test('db.t4g.micro: CPU 80 %, 10 % of 20 GiB free, 10 % of 1 GiB freeable, 80 % of max_connections, CPU credits; all to the topic', () => {
    const { stack, vpc, apps, topic } = setup();
    const db = new MysqlDatabase(stack, 'Db', { vpc, allowFrom: [apps], instanceType: new ec2.InstanceType('t4g.micro'), alarmTopic: topic });
    expect(thresholds(alarmsOf(stack))).toEqual({
      CPUUtilization: 80,
      FreeStorageSpace: 2 * 1024 ** 3,
      FreeableMemory: 102 * 1024 ** 2,
      // floor(0.8 × floor(0.9 × 1 GiB / 12582880)) = floor(0.8 × 76)
      DatabaseConnections: 60,
      CPUCreditBalance: 20,
    });
    expect(db.alarms).toHaveLength(5);
    expectActionsTo(stack, topic);
  });

  test('r7g.large: no CPU credit alarm, 16 GiB of memory; thresholds from props win', () => {
    const { stack, vpc, apps } = setup();
    new MysqlDatabase(stack, 'Db', {
      vpc, allowFrom: [apps], instanceType: new ec2.InstanceType('r7g.large'), allocatedStorageGiB: 100,
      alarmThresholds: { cpuUtilizationPercent: 70, connections: 900 },
    });
    expect(thresholds(alarmsOf(stack))).toEqual({
      CPUUtilization: 70, FreeStorageSpace: 10 * 1024 ** 3, FreeableMemory: Math.round(16 * 1024 * 0.1) * 1024 ** 2, DatabaseConnections: 900,
    });
  });

  test('alarms: false creates none', () => {
    const { stack, vpc, apps } = setup();
    expect(new MysqlDatabase(stack, 'Db', { vpc, allowFrom: [apps], alarms: false }).alarms).toEqual([]);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});

describe('RedisCluster alarms', () => {
  test('per node (2 shards × 2 nodes): engine CPU 90, memory 80 %, evictions > 0, 5000 connections, lag 5 s; events rule to the topic', () => {
    const { stack, vpc, apps, topic } = setup();
    const redis = new RedisCluster(stack, 'Cache', { vpc, allowFrom: [apps], shards: 2, replicasPerShard: 1, alarmTopic: topic });
    const rows = alarmsOf(stack);
    expect(rows).toHaveLength(4 * 5);
    expect(redis.nodeIds).toHaveLength(4);
    for (const [metric, threshold] of Object.entries({ EngineCPUUtilization: 90, DatabaseMemoryUsagePercentage: 80, Evictions: 0, CurrConnections: 5000, ReplicationLag: 5 })) {
      const of = rows.filter((r) => r.metric === metric);
      expect(of.map((r) => r.threshold)).toEqual([threshold, threshold, threshold, threshold]);
      expect(new Set(of.map((r) => JSON.stringify(r.dimensions.CacheClusterId))).size).toBe(4);
    }
    const node = JSON.stringify(rows[0].dimensions.CacheClusterId);
    expect(node).toContain('"0001-001"');
    expectActionsTo(stack, topic);
    const rule = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule'))[0] as any;
    expect(rule.Properties.EventPattern.source).toEqual(['aws.elasticache']);
    expect(rule.Properties.Targets).toHaveLength(1);
  });

  test('alarms: false creates no alarm and no events rule', () => {
    const { stack, vpc, apps, topic } = setup();
    const redis = new RedisCluster(stack, 'Cache', { vpc, allowFrom: [apps], alarms: false, alarmTopic: topic });
    expect(redis.alarms).toEqual([]);
    expect(redis.eventsRule).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('SearchDomain alarms', () => {
  test("AWS's recommended set; yellow with 2+ data nodes; master CPU and JVM with dedicated masters", () => {
    const { stack, vpc, apps, topic } = setup();
    new SearchDomain(stack, 'Search', { vpc, allowFrom: [apps], dataNodes: 2, zoneCount: 2, masterNodeType: 'm7g.large.search', volumeSizeGiB: 100, alarmTopic: topic });
    expect(thresholds(alarmsOf(stack))).toEqual({
      'ClusterStatus.red': 1,
      'ClusterStatus.yellow': 1,
      FreeStorageSpace: 25600,
      ClusterIndexWritesBlocked: 1,
      AutomatedSnapshotFailure: 1,
      CPUUtilization: 80,
      JVMMemoryPressure: 95,
      MasterReachableFromNode: 1,
      MasterCPUUtilization: 50,
      MasterJVMMemoryPressure: 95,
    });
    expectActionsTo(stack, topic);
  });

  test('one data node, no masters: no yellow (a lone node stays yellow), no master alarms', () => {
    const { stack, vpc, apps } = setup();
    new SearchDomain(stack, 'Search', { vpc, allowFrom: [apps], dataNodes: 1, zoneCount: 1, dataNodeType: 't3.small.search' });
    expect(alarmsOf(stack).map((r) => r.metric).sort()).toEqual(['AutomatedSnapshotFailure', 'CPUUtilization', 'ClusterIndexWritesBlocked', 'ClusterStatus.red', 'FreeStorageSpace', 'JVMMemoryPressure', 'MasterReachableFromNode']);
  });

  test('alarms: false creates none', () => {
    const { stack, vpc, apps } = setup();
    new SearchDomain(stack, 'Search', { vpc, allowFrom: [apps], alarms: false });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});

describe('StickyLoadBalancer alarms', () => {
  const build = (props = {}) => {
    const { stack, vpc, topic } = setup();
    const logs = new s3.Bucket(stack, 'Logs', { encryption: s3.BucketEncryption.S3_MANAGED });
    const alb = new StickyLoadBalancer(stack, 'Alb', { vpc, targetPort: 8080, accessLogsBucket: logs, alarmTopic: topic, ...props });
    return { stack, topic, alb };
  };
  test('ELB 5xx > 10, target 5xx > 10, p99 > 2 s, unhealthy >= 1, rejected > 0', () => {
    const { stack, topic } = build();
    const rows = alarmsOf(stack);
    expect(thresholds(rows)).toEqual({ HTTPCode_ELB_5XX_Count: 10, HTTPCode_Target_5XX_Count: 10, TargetResponseTime: 2, UnHealthyHostCount: 1, RejectedConnectionCount: 0 });
    const p99 = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).find((a: any) => a.Properties.MetricName === 'TargetResponseTime') as any;
    expect(p99.Properties.ExtendedStatistic).toBe('p99');
    expectActionsTo(stack, topic);
  });
  test('thresholds from props; alarms: false creates none', () => {
    expect(thresholds(alarmsOf(build({ alarmThresholds: { targetResponseTimeP99: Duration.millis(500), elb5xxCount: 1 } }).stack)))
      .toMatchObject({ TargetResponseTime: 0.5, HTTPCode_ELB_5XX_Count: 1 });
    expect(build({ alarms: false }).alb.alarms).toEqual([]);
  });
});

describe('EdgeWebAcl alarm', () => {
  test('blocked requests > 1000 in 5 min (CLOUDFRONT: no Region dimension), to the topic; none with alarms: false', () => {
    const { stack, topic } = setup('us-east-1');
    new EdgeWebAcl(stack, 'Acl', { name: 'edge', alarmTopic: topic });
    const [row] = alarmsOf(stack);
    expect(row).toMatchObject({ metric: 'BlockedRequests', threshold: 1000, dimensions: { WebACL: 'edge', Rule: 'ALL' } });
    expectActionsTo(stack, topic);
    const off = setup('us-east-1');
    expect(new EdgeWebAcl(off.stack, 'Acl', { name: 'edge', alarms: false }).alarms).toEqual([]);
  });
});

describe('Cdn alarms', () => {
  const cdnIn = (region: string, props = {}) => {
    const { stack, topic } = setup(region);
    const bucket = new s3.Bucket(stack, 'Assets');
    const logs = new s3.Bucket(stack, 'CdnLogs', { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED });
    const cdn = new Cdn(stack, 'Cdn', { staticAssetsBucket: bucket, logBucket: logs, alarmTopic: topic, ...props });
    return { stack, topic, cdn };
  };
  test('in us-east-1: 5xx rate > 5 % and origin latency > 1500 ms, additional metrics on, to the topic', () => {
    const { stack, topic } = cdnIn('us-east-1');
    expect(thresholds(alarmsOf(stack))).toEqual({ '5xxErrorRate': 5, OriginLatency: 1500 });
    Template.fromStack(stack).resourceCountIs('AWS::CloudFront::MonitoringSubscription', 1);
    expectActionsTo(stack, topic);
  });
  test('elsewhere: no alarm, a warning naming CdnAlarms; alarms: false silences it', () => {
    const { stack } = cdnIn('eu-west-1');
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    Annotations.fromStack(stack).hasWarning('/Test/Cdn', Match.stringLikeRegexp('CdnAlarms in a us-east-1 stack'));
    const quiet = cdnIn('eu-west-1', { alarms: false });
    expect(Annotations.fromStack(quiet.stack).findWarning('/Test/Cdn', Match.stringLikeRegexp('CdnAlarms'))).toEqual([]);
  });
  test('CdnAlarms refuses a stack outside us-east-1', () => {
    const { stack } = setup('eu-west-1');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E123', domainName: 'd.cloudfront.net' });
    expect(() => new CdnAlarms(stack, 'A', { distribution })).toThrow(/CdnAlarms: CloudFront publishes its metrics in us-east-1 only/);
  });
});

describe('PlatformCluster alarms and Container Insights', () => {
  test('failed nodes, node CPU and memory, restarts and OOM kills per namespace; the add-on with Pod Identity after its encrypted log groups', () => {
    const { stack, vpc, topic } = setup();
    const platform = new PlatformCluster(stack, 'Platform', { vpc, clusterName: 'demo', alarmTopic: topic, alarmNamespaces: ['platform'], containerLogRetention: 30 });
    const rows = alarmsOf(stack);
    expect(thresholds(rows)).toEqual({
      cluster_failed_node_count: 1, node_cpu_utilization: 80, node_memory_utilization: 80, 'DIFF(restarts)': 3, pod_container_status_terminated_reason_oom_killed: 1,
    });
    expect(rows.find((r) => r.metric === 'pod_container_status_terminated_reason_oom_killed')!.dimensions).toEqual({ ClusterName: 'demo', Namespace: 'platform' });
    expectActionsTo(stack, topic);
    const t = Template.fromStack(stack);
    for (const name of ['application', 'dataplane', 'host', 'performance']) {
      t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/containerinsights/demo/${name}`, RetentionInDays: 30, KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(platform.logsKey.node.defaultChild as any), 'Arn'] } });
    }
    const [addonId, addon] = Object.entries(t.findResources('AWS::EKS::Addon')).find(([, a]: any) => a.Properties.AddonName === 'amazon-cloudwatch-observability') as [string, any];
    expect(addon.Properties.PodIdentityAssociations).toEqual([{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [stack.getLogicalId(platform.cloudWatchAgentRole!.node.defaultChild as any), 'Arn'] } }]);
    const groups = Object.values(platform.containerInsightsLogGroups).map((g) => stack.getLogicalId(g.node.defaultChild as any));
    expect(addon.DependsOn).toEqual(expect.arrayContaining(groups));
    expect(addonId).toBeDefined();
  });
  test('alarms: false creates none; containerInsights: false drops the add-on, its log groups and the alarms', () => {
    const a = setup();
    new PlatformCluster(a.stack, 'Platform', { vpc: a.vpc, clusterName: 'demo', alarms: false });
    Template.fromStack(a.stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    const b = setup();
    const platform = new PlatformCluster(b.stack, 'Platform', { vpc: b.vpc, clusterName: 'demo', containerInsights: false });
    expect(platform.alarms).toEqual([]);
    expect(platform.containerInsightsLogGroups).toEqual({});
    const addons = Object.values(Template.fromStack(b.stack).findResources('AWS::EKS::Addon')).map((x: any) => x.Properties.AddonName);
    expect(addons).not.toContain('amazon-cloudwatch-observability');
  });
});

describe('AlarmTopic', () => {
  test('KMS-encrypted, TLS only, CloudWatch / EventBridge / Budgets may publish, email and HTTPS subscribers', () => {
    const { stack } = setup();
    new AlarmTopic(stack, 'Oncall', { emails: ['oncall@example.com'], httpsEndpoints: ['https://relay.example.com/hook'] });
    const t = Template.fromStack(stack);
    const subs = Object.values(t.findResources('AWS::SNS::Subscription')).map((s: any) => [s.Properties.Protocol, s.Properties.Endpoint]);
    expect(subs).toEqual(expect.arrayContaining([['email', 'oncall@example.com'], ['https', 'https://relay.example.com/hook']]));
    const policies = JSON.stringify(t.findResources('AWS::SNS::TopicPolicy'));
    for (const p of ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'budgets.amazonaws.com', 'aws:SecureTransport']) expect(policies).toContain(p);
    const keys = JSON.stringify(t.findResources('AWS::KMS::Key'));
    expect(keys).toContain('cloudwatch.amazonaws.com');
  });
  test('refuses an endpoint that is not https://', () => {
    const { stack } = setup();
    expect(() => new AlarmTopic(stack, 'Bad', { httpsEndpoints: ['http://relay.example.com'] })).toThrow(/AlarmTopic: httpsEndpoints must be https:\/\/ URLs/);
  });
});
