import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  EncryptionKey, ManagedPrometheus, ManagedPrometheusProps, PlatformCluster, SCRAPE_ANNOTATIONS, SCRAPER_KUBERNETES_USER,
} from '../../lib/constructs';
import { SCRAPE_ANNOTATIONS as CHART_SCRAPE_ANNOTATIONS } from '../../k8s/settings';
import { validateManifests } from '../support/kubeconform';
import { rulePackFindings, testApp } from '../support/synth';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const RULES = 'groups:\n  - name: test\n    rules:\n      - alert: Always\n        expr: vector(1)\n';

interface Built {
  app: ReturnType<typeof testApp>;
  stack: Stack;
  topicStack?: Stack;
  metrics: ManagedPrometheus;
  platform: PlatformCluster;
}

/** A cluster and its metrics in one stack; the alarm topic (encrypted) in another, as the platform has it. */
function build(props: Partial<ManagedPrometheusProps> = {}, withTopic = false): Built {
  const app = testApp();
  const topicStack = withTopic ? new Stack(app, 'Alarms', { env: ENV }) : undefined;
  const topic = topicStack
    ? new sns.Topic(topicStack, 'Topic', { masterKey: new EncryptionKey(topicStack, 'TopicKey', { description: 'alarm topic' }), enforceSSL: true })
    : undefined;
  const stack = new Stack(app, 'Test', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const platform = new PlatformCluster(stack, 'Platform', { vpc, clusterName: 'demo' });
  const metrics = new ManagedPrometheus(stack, 'Metrics', {
    cluster: platform.cluster,
    namespaces: ['platform'],
    metricsPorts: [8080],
    ruleNamespaces: [{ name: 'platform', data: RULES }],
    alarmTopic: topic,
    ...props,
  });
  return { app, stack, topicStack, metrics, platform };
}

describe('ManagedPrometheus', () => {
  test('a workspace logging rule evaluation to an encrypted log group, the rule namespace, no alert manager without a topic', () => {
    const { stack, metrics } = build();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::APS::Workspace', 1);
    const ws = t.findResources('AWS::APS::Workspace');
    const props = Object.values(ws)[0].Properties;
    expect(props.AlertManagerDefinition).toBeUndefined();
    // AWS owned key: managed collectors cannot write to a workspace with a customer managed key
    expect(props.KmsKeyArn).toBeUndefined();
    expect(props.LoggingConfiguration.LogGroupArn['Fn::GetAtt'][1]).toBe('Arn');
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365, LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/prometheus/') });
    t.hasResourceProperties('AWS::APS::RuleGroupsNamespace', { Name: 'platform', Data: RULES, Workspace: { 'Fn::GetAtt': [Match.stringLikeRegexp('^MetricsWorkspace'), 'Arn'] } });
    expect(metrics.alertManagerDefinition).toBeUndefined();
  });

  test('the scraper: the cluster as source (its private subnets, its own group), the workspace as destination', () => {
    const { stack, metrics } = build();
    const t = Template.fromStack(stack);
    const scraper = Object.values(t.findResources('AWS::APS::Scraper'))[0].Properties;
    expect(scraper.Source.EksConfiguration.ClusterArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Platform/), 'Arn'] });
    expect(scraper.Source.EksConfiguration.SubnetIds).toHaveLength(2);
    expect(JSON.stringify(scraper.Source.EksConfiguration.SubnetIds)).toMatch(/PrivateSubnet/);
    expect(scraper.Source.EksConfiguration.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^MetricsScraperSecurityGroup/), 'GroupId'] }]);
    expect(scraper.Destination.AmpConfiguration.WorkspaceArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^MetricsWorkspace/), 'Arn'] });
    const config = JSON.parse(scraper.ScrapeConfiguration.ConfigurationBlob['Fn::Base64']);
    expect(config).toEqual(JSON.parse(metrics.scrapeConfiguration));
    expect(config.global.scrape_interval).toBe('30s');
    const pods = config.scrape_configs.find((j: any) => j.job_name === 'pods');
    expect(pods.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['platform'] } }]);
    expect(pods.relabel_configs[0]).toEqual({ source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' });
    const kcm = config.scrape_configs.find((j: any) => j.job_name === 'kube-controller-manager');
    expect(kcm.metrics_path).toBe('/apis/metrics.eks.amazonaws.com/v1/kcm/container/metrics');
  });

  test('the annotations the charts set are the ones the scrape configuration keeps', () => {
    expect(SCRAPE_ANNOTATIONS).toEqual(CHART_SCRAPE_ANNOTATIONS);
  });

  test('the scraper reaches the API (443) and the metrics ports of the nodes, nothing else', () => {
    const { stack } = build({ metricsPorts: [8080, 9464] });
    const t = Template.fromStack(stack);
    const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')).map((r: any) => r.Properties)
      .filter((p: any) => JSON.stringify(p.GroupId).includes('MetricsScraperSecurityGroup'));
    expect(egress.map((p: any) => p.FromPort).sort()).toEqual([443, 8080, 9464]);
    for (const p of egress) expect(p.DestinationSecurityGroupId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/Cluster/), 'ClusterSecurityGroupId'] });
    // no other egress: CDK's placeholder that matches no traffic
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('scraper'), SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })] });
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r: any) => r.Properties)
      .filter((p: any) => JSON.stringify(p.SourceSecurityGroupId ?? '').includes('MetricsScraperSecurityGroup'));
    expect(ingress.map((p: any) => p.FromPort).sort()).toEqual([443, 8080, 9464]);
  });

  test('an access entry maps the scraper role (ARN without its path) to aps-collector-user, bound to the documented ClusterRole', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);
    const entry = Object.values(t.findResources('AWS::EKS::AccessEntry')).map((r: any) => r.Properties).find((p: any) => p.Username === SCRAPER_KUBERNETES_USER);
    expect(entry).toBeDefined();
    expect(entry.Type).toBe('STANDARD');
    expect(entry.AccessPolicies).toBeUndefined();
    const role = { 'Fn::Split': ['/', { 'Fn::GetAtt': [expect.stringMatching(/^MetricsScraper[0-9A-F]/), 'RoleArn'] }] };
    expect(entry.PrincipalArn).toEqual({ 'Fn::Join': ['/', [{ 'Fn::Select': [0, role] }, { 'Fn::Select': [3, role] }]] });
    const rbac = Object.values(t.findResources('Custom::AWSCDK-EKS-KubernetesResource')).map((r: any) => r.Properties.Manifest)
      .map((m: any) => JSON.stringify(m)).find((m: string) => m.includes('aps-collector-role'));
    expect(rbac).toBeDefined();
    const objects = JSON.parse(JSON.parse(rbac!));
    expect(objects.map((o: any) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterRole/aps-collector-role', 'ClusterRoleBinding/aps-collector-user-role-binding']);
    expect(objects[1].subjects).toEqual([{ kind: 'User', name: 'aps-collector-user', apiGroup: 'rbac.authorization.k8s.io' }]);
    // read only
    for (const rule of objects[0].rules) expect(rule.verbs.every((v: string) => ['get', 'list', 'watch'].includes(v))).toBe(true);
    // strict Kubernetes 1.35 schemas (kubeconform: a one-off Go build on a cold machine)
    expect(validateManifests(objects, 'scraper RBAC')).toEqual(expect.objectContaining({ valid: 2, errors: [] }));
  }, 30 * 60 * 1000);

  test('with a topic: an alert manager definition to it, and its policy and key let aps.amazonaws.com publish (no reference back)', () => {
    const { stack, topicStack, metrics } = build({}, true);
    const t = Template.fromStack(stack);
    const def = Object.values(t.findResources('AWS::APS::Workspace'))[0].Properties.AlertManagerDefinition;
    expect(JSON.stringify(def)).toMatch(/sns_configs/);
    expect(JSON.stringify(def)).toMatch(/Fn::ImportValue|Fn::GetStackOutput/);
    expect(metrics.alertManagerDefinition).toMatch(/send_resolved: true/);
    const a = Template.fromStack(topicStack!);
    a.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'ManagedPrometheusAlertManager', Principal: { Service: 'aps.amazonaws.com' }, Action: ['sns:GetTopicAttributes', 'sns:Publish'],
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': Match.anyValue() } },
      })]) },
    });
    a.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ManagedPrometheusAlertManager', Principal: { Service: 'aps.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
    // the topic's stack does not depend on the metrics' stack
    expect(topicStack!.dependencies).toEqual([]);
  });

  test('refuses empty namespaces, bad ports and intervals, naming the prop', () => {
    expect(() => build({ namespaces: [] })).toThrow(/ManagedPrometheus: namespaces needs at least one/);
    expect(() => build({ metricsPorts: [0] })).toThrow(/ManagedPrometheus: metricsPorts must be TCP ports/);
    expect(() => build({ scrapeIntervalSeconds: 1 })).toThrow(/ManagedPrometheus: scrapeIntervalSeconds/);
    expect(() => build({ ruleNamespaces: [{ name: 'bad name', data: RULES }] })).toThrow(/rule namespace name 'bad name'/);
  });

  test('rule packs: no unacknowledged finding, with and without a topic', () => {
    for (const withTopic of [false, true]) {
      const { app } = build({}, withTopic);
      expect(rulePackFindings(app).filter((f) => f.path.includes('/Metrics/') || f.path.includes('Alarms/'))).toEqual([]);
    }
  }, 300_000);
});
