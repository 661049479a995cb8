import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { ServiceLogMetrics } from '../observability/service-log-metrics';
import { ClusterStack } from './cluster-stack';
import { DataStack } from './data-stack';
import { EdgeStack } from './edge-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';
import { WafStack } from './waf-stack';

export interface ObservabilityStackProps extends PlatformStackProps {
  readonly data: DataStack;
  readonly cluster: ClusterStack;
  readonly edge: EdgeStack;
  readonly waf: WafStack;
}

/** The dashboard's rows, top to bottom (README "Dashboard"). */
export const DASHBOARD_ROWS = ['Edge: CloudFront and WAF', 'Load balancer', 'Cluster', 'Data: MySQL', 'Data: Redis', 'Data: OpenSearch', 'Services: golden signals'] as const;

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The environment's dashboard (cdk-monitoring-constructs): a row per part of the platform, from the
 * edge to each service's golden signals, and the metric filters those signals come from. Deployed
 * last: it reads every other stack.
 */
export class ObservabilityStack extends PlatformStack {
  readonly serviceMetrics: ServiceLogMetrics;
  readonly monitoring: MonitoringFacade;
  readonly dashboard: cloudwatch.Dashboard;
  /** The services with a golden-signals row (the kit's `service` field). */
  readonly services: string[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { appName, envName, workloads } = this.config;
    const platformCluster = props.cluster.platformCluster;
    const applicationLogs = platformCluster.containerInsightsLogGroups.application;
    if (!applicationLogs) throw new Error('ObservabilityStack: the cluster has no Container Insights application log group (PlatformCluster containerInsights: false)');
    this.services = ['gateway', ...Object.keys(workloads.services)];
    this.serviceMetrics = new ServiceLogMetrics(this, 'ServiceMetrics', { logGroup: applicationLogs, namespace: `${appName}/${envName}/services` });

    const dashboards = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: `${appName}-${envName}`,
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    // The alarms live in each construct (and notify the alarm topic); the dashboard only draws.
    this.monitoring = new MonitoringFacade(this, 'Monitoring', { dashboardFactory: dashboards });
    const [edgeRow, lbRow, clusterRow, mysqlRow, redisRow, searchRow, servicesRow] = DASHBOARD_ROWS;

    this.monitoring
      .addLargeHeader(edgeRow)
      .monitorCloudFrontDistribution({ distribution: props.edge.distribution, additionalMetricsEnabled: true, alarmFriendlyName: 'cdn' })
      .monitorWebApplicationFirewallAclV2({ acl: props.waf.webAcl.webAcl, region: 'us-east-1', alarmFriendlyName: 'waf' })
      .addLargeHeader(lbRow)
      .monitorCustom({ humanReadableName: 'Internal ALB', alarmFriendlyName: 'alb', metricGroups: this.loadBalancerGroups(props.edge) })
      .addLargeHeader(clusterRow)
      .monitorCustom({ humanReadableName: `EKS ${platformCluster.clusterName} (Container Insights)`, alarmFriendlyName: 'cluster', metricGroups: this.clusterGroups(platformCluster.clusterName, workloads.namespace) })
      .addLargeHeader(mysqlRow)
      .monitorRdsInstance({ instance: props.data.mysql.instance, alarmFriendlyName: 'mysql' })
      .addLargeHeader(redisRow)
      .monitorCustom({ humanReadableName: 'ElastiCache (per node)', alarmFriendlyName: 'redis', metricGroups: this.redisGroups(props.data) })
      .addLargeHeader(searchRow)
      .monitorOpenSearchCluster({ domain: props.data.search.domain, alarmFriendlyName: 'search' })
      .addLargeHeader(servicesRow);
    for (const service of this.services) {
      this.monitoring.monitorCustom({
        humanReadableName: `${service}: traffic, errors, latency, saturation`,
        alarmFriendlyName: `service-${service}`,
        metricGroups: this.serviceGroups(service, platformCluster.clusterName, workloads.namespace),
      });
    }
    this.dashboard = dashboards.dashboard!;
  }

  private loadBalancerGroups(edge: EdgeStack) {
    const lb = edge.loadBalancer.loadBalancer.metrics;
    const tg = edge.targetGroup.metrics;
    return [
      { title: 'Requests', metrics: [lb.requestCount({ period: FIVE_MINUTES })] },
      { title: '5xx', metrics: [lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: FIVE_MINUTES }), tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: FIVE_MINUTES })] },
      { title: 'Target response time', metrics: ['p50', 'p99'].map((statistic) => tg.targetResponseTime({ statistic, period: FIVE_MINUTES, label: `${statistic} (s)` })) },
      { title: 'Targets', metrics: [tg.healthyHostCount({ period: FIVE_MINUTES }), tg.unhealthyHostCount({ period: FIVE_MINUTES })] },
      { title: 'Connections', metrics: [lb.activeConnectionCount({ period: FIVE_MINUTES }), lb.rejectedConnectionCount({ period: FIVE_MINUTES })] },
    ];
  }

  private clusterGroups(clusterName: string, namespace: string) {
    const ci = (metricName: string, statistic: string, extra: Record<string, string> = {}) => new cloudwatch.Metric({
      namespace: 'ContainerInsights', metricName, statistic, period: FIVE_MINUTES, dimensionsMap: { ClusterName: clusterName, ...extra }, label: metricName,
    });
    return [
      { title: 'Nodes', metrics: [ci('cluster_node_count', 'Average'), ci('cluster_failed_node_count', 'Maximum')] },
      { title: 'Node CPU and memory (%)', metrics: [ci('node_cpu_utilization', 'Average'), ci('node_memory_utilization', 'Average'), ci('node_filesystem_utilization', 'Maximum')] },
      { title: `Pods in ${namespace}`, metrics: [ci('namespace_number_of_running_pods', 'Average', { Namespace: namespace })] },
      { title: `Restarts and OOM kills in ${namespace}`, metrics: [ci('pod_number_of_container_restarts', 'Maximum', { Namespace: namespace }), ci('pod_container_status_terminated_reason_oom_killed', 'Maximum', { Namespace: namespace })] },
    ];
  }

  private redisGroups(data: DataStack) {
    const node = (metricName: string, statistic: string) => data.redis.nodeIds.map((id, i) => new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache', metricName, statistic, period: FIVE_MINUTES, dimensionsMap: { CacheClusterId: id }, label: `node ${i + 1}`,
    }));
    return [
      { title: 'Engine CPU (%)', metrics: node('EngineCPUUtilization', 'Average') },
      { title: 'Memory used (%)', metrics: node('DatabaseMemoryUsagePercentage', 'Maximum') },
      { title: 'Connections', metrics: node('CurrConnections', 'Maximum') },
      { title: 'Evictions', metrics: node('Evictions', 'Sum') },
      { title: 'Replication lag (s)', metrics: node('ReplicationLag', 'Maximum') },
    ];
  }

  private serviceGroups(service: string, clusterName: string, namespace: string) {
    const m = this.serviceMetrics;
    const pod = (metricName: string) => new cloudwatch.Metric({
      namespace: 'ContainerInsights', metricName, statistic: 'Average', period: FIVE_MINUTES,
      dimensionsMap: { ClusterName: clusterName, Namespace: namespace, Service: service }, label: metricName,
    });
    return [
      { title: 'Traffic (requests / 5 min)', metrics: [m.requests(service)] },
      { title: 'Errors (5xx / 5 min)', metrics: [m.errors(service)] },
      { title: 'Latency (ms)', metrics: [m.latency(service, 'p50'), m.latency(service, 'p99')] },
      { title: 'Saturation (% of pod limits)', metrics: [pod('pod_cpu_utilization_over_pod_limit'), pod('pod_memory_utilization_over_pod_limit')] },
    ];
  }
}
