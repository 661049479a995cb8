import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DASHBOARD_ROWS } from '../lib/stacks/observability-stack';
import { build, ENVS, resourcesOf } from './support/platform';
import { rulePackFindings } from './support/synth';

/** Every alarm of every stack of the environment: [stack, alarm properties]. */
function alarmsOf(stacks: Stack[]): [Stack, any][] {
  return stacks.flatMap((s) => resourcesOf(Template.fromStack(s), 'AWS::CloudWatch::Alarm').map(([, a]) => [s, a.Properties] as [Stack, any]));
}

/** Alarm counts per env, printed in the README's observability section; a change here is a change there. */
const ALARM_COUNTS: Record<string, number> = { dev: 35, staging: 47, prod: 72 };

describe.each(ENVS)('observability (%s)', (env) => {
  const { platform, config } = build(env);
  const stacks = platform.network.node.root.node.children.filter((c): c is Stack => c instanceof Stack);
  const observability = Template.fromStack(platform.observability);

  test('snapshot of the observability stack (dashboard and metric filters)', () => {
    expect(observability.toJSON()).toMatchSnapshot();
  });

  test('the alarm topics: KMS-encrypted, TLS only, in the app region and in us-east-1, subscribers from config', () => {
    for (const alerts of [platform.alerts, platform.alertsUsEast1]) {
      const t = Template.fromStack(alerts);
      const [[, topic]] = resourcesOf(t, 'AWS::SNS::Topic');
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      expect(JSON.stringify(resourcesOf(t, 'AWS::SNS::TopicPolicy')[0][1].Properties)).toContain('aws:SecureTransport');
      t.resourceCountIs('AWS::SNS::Subscription', config.observability.alarmEmails.length + config.observability.alarmHttpsEndpoints.length);
    }
    expect(platform.alertsUsEast1.region).toBe('us-east-1');
    expect(platform.alerts.region).toBe(config.region);
  });

  test(`every alarm notifies the topic of its region (ALARM and OK); ${ALARM_COUNTS[env]} alarms`, () => {
    const alarms = alarmsOf(stacks);
    expect(alarms).toHaveLength(ALARM_COUNTS[env]);
    for (const [stack, alarm] of alarms) {
      const topicStack = stack.region === 'us-east-1' ? platform.alertsUsEast1 : platform.alerts;
      expect([stack.stackName, alarm.AlarmActions?.length, alarm.OKActions?.length]).toEqual([stack.stackName, 1, 1]);
      // The output of that topic's stack (same region), never a topic of another region.
      for (const actions of [alarm.AlarmActions, alarm.OKActions]) {
        expect(actions[0]['Fn::GetStackOutput']).toMatchObject({ StackName: topicStack.stackName, Region: stack.region });
      }
    }
  });

  test('alarms sit where their metrics are: CloudFront and WAF in us-east-1, the rest in the app region', () => {
    const regions = Object.fromEntries(stacks.map((s) => [s.stackName, s.region]));
    const byStack = alarmsOf(stacks).reduce<Record<string, number>>((acc, [s]) => ({ ...acc, [s.stackName]: (acc[s.stackName] ?? 0) + 1 }), {});
    expect(regions[platform.waf.stackName]).toBe('us-east-1');
    expect(byStack[platform.waf.stackName]).toBe(1);
    expect(regions[platform.edgeAlarms!.stackName]).toBe('us-east-1');
    expect(byStack[platform.edgeAlarms!.stackName]).toBe(2);
    Template.fromStack(platform.edge).resourceCountIs('AWS::CloudFront::MonitoringSubscription', 1);
  });

  test('the budget alerts to the alarm topic (no topic of its own)', () => {
    const budget = Template.fromStack(platform.budget);
    budget.resourceCountIs('AWS::SNS::Topic', 0);
    expect(JSON.stringify(resourcesOf(budget, 'AWS::Budgets::Budget')[0][1].Properties.NotificationsWithSubscribers)).toContain(`"StackName":"${platform.alerts.stackName}"`);
  });

  test('dependencies: alerts first, the dashboard after the stacks it draws', () => {
    const deps = (s: Stack) => s.dependencies.map((d) => d.stackName);
    expect(deps(platform.alerts)).toEqual([]);
    expect(deps(platform.alertsUsEast1)).toEqual([]);
    for (const s of [platform.data, platform.cluster, platform.edge, platform.budget]) expect(deps(s)).toContain(platform.alerts.stackName);
    expect(deps(platform.waf)).toContain(platform.alertsUsEast1.stackName);
    expect(deps(platform.observability)).toEqual(expect.arrayContaining([platform.data.stackName, platform.cluster.stackName, platform.edge.stackName]));
    expect(deps(platform.edgeAlarms!)).toEqual(expect.arrayContaining([platform.edge.stackName, platform.alertsUsEast1.stackName]));
  });

  test('one dashboard with a row per part of the platform, each service with its golden signals', () => {
    const [[, dashboard]] = resourcesOf(observability, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(platform.observability.resolve(dashboard.Properties.DashboardBody));
    for (const row of DASHBOARD_ROWS) expect(body).toContain(row);
    for (const service of ['gateway', 'user', 'catalog', 'order']) expect(body).toContain(`${service}: traffic, errors, latency, saturation`);
    for (const metric of ['5xxErrorRate', 'BlockedRequests', 'HTTPCode_ELB_5XX_Count', 'node_cpu_utilization', 'CPUUtilization', 'EngineCPUUtilization', 'AWS/ES', 'LatencyMs', 'pod_cpu_utilization_over_pod_limit']) {
      expect([metric, body.includes(metric)]).toEqual([metric, true]);
    }
  });

  test('metric filters on the Container Insights application log group: requests, 5xx and latency per service', () => {
    const filters = resourcesOf(observability, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    expect(filters.map((f) => f.MetricTransformations[0].MetricName).sort()).toEqual(['Errors5xx', 'LatencyMs', 'Requests']);
    for (const f of filters) {
      expect(f.LogGroupName['Fn::GetStackOutput'].StackName).toBe(platform.cluster.stackName);
      expect(f.FilterPattern).toContain('$.log_processed.msg = "request"');
      expect(f.MetricTransformations[0].Dimensions).toEqual([{ Key: 'service', Value: '$.log_processed.service' }]);
    }
    expect(filters.find((f) => f.MetricTransformations[0].MetricName === 'Errors5xx').FilterPattern).toContain('$.log_processed.status >= 500');
    expect(filters.find((f) => f.MetricTransformations[0].MetricName === 'LatencyMs').MetricTransformations[0].MetricValue).toBe('$.log_processed.ms');
  });

  test('Container Insights log groups: created by the platform, KMS, retention from observability.logRetentionDays', () => {
    const cluster = Template.fromStack(platform.cluster);
    for (const name of ['application', 'dataplane', 'host', 'performance']) {
      const [[, group]] = resourcesOf(cluster, 'AWS::Logs::LogGroup').filter(([, g]) => g.Properties.LogGroupName === `/aws/containerinsights/${config.appName}-${env}/${name}`);
      expect(group.Properties.RetentionInDays).toBe(config.observability.logRetentionDays);
      expect(group.Properties.KmsKeyId).toBeDefined();
    }
  });
});

describe('an app in us-east-1', () => {
  const { app, platform } = build('dev', { region: 'us-east-1' });
  const findings = rulePackFindings(app);

  test('no unacknowledged rule-pack findings', () => expect(findings).toEqual([]));

  test('one alerts stack, no edge-alarms stack: the edge stack holds the CloudFront alarms, all on its topic', () => {
    expect(platform.alertsUsEast1).toBe(platform.alerts);
    expect(platform.edgeAlarms).toBeUndefined();
    const edge = Template.fromStack(platform.edge);
    const alarms = resourcesOf(edge, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(['5xxErrorRate', 'HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'OriginLatency', 'RejectedConnectionCount', 'TargetResponseTime', 'UnHealthyHostCount']);
    for (const a of alarms) expect(a.AlarmActions[0]['Fn::GetStackOutput'].StackName).toBe(platform.alerts.stackName);
  });
});
