import { App } from 'aws-cdk-lib';
import { PlatformConfig } from './config';
import { AlertsStack } from './stacks/alerts-stack';
import { BackupCopyStack } from './stacks/backup-copy-stack';
import { BudgetStack } from './stacks/budget-stack';
import { ClusterStack } from './stacks/cluster-stack';
import { DataStack } from './stacks/data-stack';
import { EdgeAlarmsStack } from './stacks/edge-alarms-stack';
import { EdgeStack } from './stacks/edge-stack';
import { NetworkStack } from './stacks/network-stack';
import { ObservabilityStack } from './stacks/observability-stack';
import { WafStack } from './stacks/waf-stack';
import { WorkloadsStack } from './stacks/workloads-stack';

/** The stacks of one environment, as typed objects for tests and extensions. */
export interface Platform {
  readonly network: NetworkStack;
  readonly data: DataStack;
  /** Second backup vault in backup.copyRegion (undefined without one). */
  readonly backupCopy?: BackupCopyStack;
  readonly cluster: ClusterStack;
  /** CloudFront web ACL, always in us-east-1. */
  readonly waf: WafStack;
  readonly edge: EdgeStack;
  /** The platform's workloads on the cluster (cdk8s charts, Pod Identity roles, services image). */
  readonly workloads: WorkloadsStack;
  /** The monthly cost budget (budgetUsdPerMonth); it alerts to the alarm topic. */
  readonly budget: BudgetStack;
  /** The alarm topic of the app's region, deployed first. */
  readonly alerts: AlertsStack;
  /** The alarm topic in us-east-1 (CloudFront and WAF alarms); the same stack as `alerts` when the app is in us-east-1. */
  readonly alertsUsEast1: AlertsStack;
  /** CloudFront's alarms in us-east-1 (undefined when the app itself is in us-east-1). */
  readonly edgeAlarms?: EdgeAlarmsStack;
  /** The dashboard and the services' metric filters, deployed last. */
  readonly observability: ObservabilityStack;
}

/** Instantiates every stack of one environment in `app`. Stack names: `<app>-<env>-<part>`. */
export function buildPlatform(app: App, config: PlatformConfig): Platform {
  const name = (part: string) => `${config.appName}-${config.envName}-${part}`;
  // An alarm notifies a topic of its own region: one topic here, one in us-east-1 for the edge.
  const alerts = new AlertsStack(app, name('alerts'), { config, description: `${config.appName} ${config.envName}: alarm topic` });
  const alertsUsEast1 = config.region === 'us-east-1' ? alerts
    : new AlertsStack(app, name('alerts-us-east-1'), { config, region: 'us-east-1', description: `${config.appName} ${config.envName}: alarm topic in us-east-1 (CloudFront and WAF alarms)` });
  const alarmTopic = alerts.topic;
  const network = new NetworkStack(app, name('network'), { config, description: `${config.appName} ${config.envName}: VPC, subnets, endpoints, flow logs` });
  const backupCopy = config.backup?.copyRegion
    ? new BackupCopyStack(app, name('backup-copy'), { config, description: `${config.appName} ${config.envName}: backup copy vault (${config.backup.copyRegion})` })
    : undefined;
  const data = new DataStack(app, name('data'), {
    config,
    vpc: network.vpc,
    workloadsSecurityGroup: network.workloadsSecurityGroup,
    backupCopy: backupCopy?.target,
    alarmTopic,
    description: `${config.appName} ${config.envName}: MySQL, Redis cluster, OpenSearch, S3${config.backup ? ', backup plan' : ''}`,
  });
  // Named, not referenced: deploy the copy vault first.
  if (backupCopy) data.addStackDependency(backupCopy, 'the backup plan copies into its vault by name');
  const cluster = new ClusterStack(app, name('cluster'), {
    config,
    vpc: network.vpc,
    workloadsSecurityGroup: network.workloadsSecurityGroup,
    alarmTopic,
    description: `${config.appName} ${config.envName}: EKS ${config.cluster.kubernetesVersion}, nodes, add-ons, load balancer controller`,
  });
  const waf = new WafStack(app, name('waf'), { config, alarmTopic: alertsUsEast1.topic, description: `${config.appName} ${config.envName}: CloudFront web ACL (us-east-1)` });
  const edge = new EdgeStack(app, name('edge'), {
    config,
    vpc: network.vpc,
    buckets: data.buckets,
    clusterSecurityGroup: cluster.clusterSecurityGroup,
    targetGroupBindingTag: cluster.platformCluster.targetGroupBindingTag,
    webAclArn: waf.webAcl.arn,
    alarmTopic,
    description: `${config.appName} ${config.envName}: CloudFront, WAF attachment, VPC origin, internal sticky ALB`,
  });
  const workloads = new WorkloadsStack(app, name('workloads'), {
    config,
    platformCluster: cluster.platformCluster,
    data,
    edge,
    alarmTopic,
    description: `${config.appName} ${config.envName}: registry, gateway, services and jobs on EKS (cdk8s charts)`,
  });
  const budget = new BudgetStack(app, name('budget'), { config, alarmTopic, description: `${config.appName} ${config.envName}: monthly cost budget (USD ${config.budgetUsdPerMonth}), alerts at 80 % and 100 %` });
  const edgeAlarms = config.region === 'us-east-1' ? undefined : new EdgeAlarmsStack(app, name('edge-alarms'), {
    config,
    distribution: edge.distribution,
    alarmTopic: alertsUsEast1.topic,
    description: `${config.appName} ${config.envName}: CloudFront alarms (us-east-1, where CloudFront publishes its metrics)`,
  });
  const observability = new ObservabilityStack(app, name('observability'), {
    config,
    data,
    cluster,
    edge,
    waf,
    description: `${config.appName} ${config.envName}: dashboard (edge, load balancer, cluster, data stores, services) and service metric filters`,
  });
  return { network, data, cluster, waf, edge, backupCopy, workloads, budget, alerts, alertsUsEast1, edgeAlarms, observability };
}
