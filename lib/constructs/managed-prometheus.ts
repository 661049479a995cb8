import { Annotations, Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eksL1 from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeShortRetention } from '../compliance';
import { EncryptionKey } from './encryption-key';

/** Kubernetes user the managed scraper authenticates as (its EKS access entry maps its role to it). */
export const SCRAPER_KUBERNETES_USER = 'aps-collector-user';
/** ClusterRole / ClusterRoleBinding names the AWS documentation uses for the managed scraper. */
export const SCRAPER_CLUSTER_ROLE = 'aps-collector-role';
export const SCRAPER_CLUSTER_ROLE_BINDING = 'aps-collector-user-role-binding';

/** Pod annotations the scrape configuration reads (the common `prometheus.io/*` convention). */
export const SCRAPE_ANNOTATIONS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;

/** One rule groups namespace of the workspace: a Prometheus rule file. */
export interface PrometheusRuleNamespace {
  /** Name of the namespace in the workspace (letters, digits, `-`, `_`, `.`). */
  readonly name: string;
  /** The rule file: Prometheus rule YAML (`groups: [...]`), e.g. checked with `promtool check rules`. */
  readonly data: string;
}

export interface ManagedPrometheusProps {
  /** The EKS cluster to scrape (its endpoint access must include private access). */
  readonly cluster: eks.ICluster;
  /**
   * Kubernetes namespaces whose pods are scraped: every pod annotated `prometheus.io/scrape: "true"`,
   * at `prometheus.io/port` (required) and `prometheus.io/path` (default `/metrics`).
   */
  readonly namespaces: string[];
  /**
   * Pod ports the scraper may reach: rules from its security group to the cluster security group
   * (which the nodes, and so the pods, carry). List every `prometheus.io/port` in use.
   */
  readonly metricsPorts: number[];
  /**
   * Subnets of the scraper's network interfaces (AWS asks for the cluster's: two or more zones, at most 5).
   * @default the VPC's private subnets with egress
   */
  readonly scraperSubnets?: ec2.SubnetSelection;
  /**
   * Scrape interval in seconds.
   * @default 30
   */
  readonly scrapeIntervalSeconds?: number;
  /**
   * Also scrape the kube-controller-manager's metrics that EKS serves through the API server
   * (only `job_controller_*`: the Job failures of the cluster).
   * @default true
   */
  readonly controlPlaneMetrics?: boolean;
  /**
   * Rule files, one rule groups namespace each.
   * @default none
   */
  readonly ruleNamespaces?: PrometheusRuleNamespace[];
  /**
   * Topic the workspace's alert manager publishes firing and resolved alerts to. Its policy (and its
   * KMS key's, if it has one) is extended to let `aps.amazonaws.com` publish from this account.
   * @default no alert manager definition: rules are evaluated, alerts go nowhere
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Workspace alias.
   * @default the construct's path
   */
  readonly alias?: string;
  /**
   * Days the workspace keeps samples.
   * @default 150 (the service's default)
   */
  readonly retentionDays?: number;
  /**
   * Retention of the rule evaluation and alert manager log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log group and its key.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Service metrics in Amazon Managed Service for Prometheus, with no agent in the cluster: a workspace
 * (rule evaluation and alert manager logs to a KMS-encrypted log group), the AWS managed scraper
 * (`AWS::APS::Scraper`) for the cluster's annotated pods, the scraper's way in (its own security
 * group, an EKS access entry for its role as `aps-collector-user`, and the ClusterRole + binding
 * AWS documents for that user), rule groups namespaces, and, given a topic, an alert manager
 * definition that sends alerts to it.
 *
 * The workspace stays encrypted with an AWS owned key: AWS documents that workspaces created with a
 * customer managed key cannot take data from AWS managed collectors.
 */
export class ManagedPrometheus extends Construct {
  readonly workspace: aps.CfnWorkspace;
  readonly scraper: aps.CfnScraper;
  readonly scraperSecurityGroup: ec2.SecurityGroup;
  /** Maps the scraper's service-linked role (ARN without its path, as EKS wants it) to `aps-collector-user`. */
  readonly accessEntry: eksL1.CfnAccessEntry;
  /** ClusterRole + ClusterRoleBinding of `aps-collector-user`. */
  readonly scraperRbac: eks.KubernetesManifest;
  readonly ruleGroupsNamespaces: aps.CfnRuleGroupsNamespace[] = [];
  /** Rule evaluation and alert manager logs. */
  readonly logGroup: logs.LogGroup;
  readonly logsKey: EncryptionKey;
  /** The Prometheus scrape configuration (YAML) the scraper runs. */
  readonly scrapeConfiguration: string;
  /** The alert manager definition (YAML), when an alarm topic was given. */
  readonly alertManagerDefinition?: string;

  constructor(scope: Construct, id: string, props: ManagedPrometheusProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const cluster = props.cluster;
    if (props.namespaces.length === 0) throw new Error('ManagedPrometheus: namespaces needs at least one Kubernetes namespace to scrape');
    if (props.metricsPorts.length === 0) throw new Error('ManagedPrometheus: metricsPorts needs at least one port (every prometheus.io/port in use)');
    for (const p of props.metricsPorts) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`ManagedPrometheus: metricsPorts must be TCP ports (1 to 65535), got ${p}`);
    }
    const interval = props.scrapeIntervalSeconds ?? 30;
    if (!Number.isInteger(interval) || interval < 5 || interval > 300) throw new Error(`ManagedPrometheus: scrapeIntervalSeconds must be an integer from 5 to 300, got ${interval}`);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.logsKey = new EncryptionKey(this, 'LogsKey', {
      description: `Encrypts the Prometheus rule and alert manager logs of ${this.node.path}`,
      cloudWatchLogs: true,
      removalPolicy,
    });
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    // Vended logs: under /aws/vendedlogs/ the service's delivery policy stays small.
    this.logGroup = this.logsKey.logGroup(this, 'RuleLogs', {
      logGroupName: `/aws/vendedlogs/prometheus/${stack.stackName}/${id}`,
      retention: logRetention,
      removalPolicy,
    });
    acknowledgeShortRetention(this.logGroup, logRetention);

    if (props.alarmTopic) this.alertManagerDefinition = alertManagerDefinition(props.alarmTopic, stack.region);
    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias: props.alias ?? this.node.path.replace(/\//g, '-'),
      loggingConfiguration: { logGroupArn: this.logGroup.logGroupArn },
      workspaceConfiguration: props.retentionDays === undefined ? undefined : { retentionPeriodInDays: props.retentionDays },
      alertManagerDefinition: this.alertManagerDefinition,
    });
    if (props.alarmTopic) allowAlertManager(this, props.alarmTopic);

    for (const ns of props.ruleNamespaces ?? []) {
      if (!/^[0-9A-Za-z][-.0-9A-Z_a-z]*$/.test(ns.name)) throw new Error(`ManagedPrometheus: rule namespace name '${ns.name}' may hold only letters, digits, '-', '_' and '.'`);
      this.ruleGroupsNamespaces.push(new aps.CfnRuleGroupsNamespace(this, `Rules-${ns.name}`, {
        workspace: this.workspace.attrArn,
        name: ns.name,
        data: ns.data,
      }));
    }

    // The scraper's interfaces: to the API server (discovery, control-plane metrics) and the pods.
    this.scraperSecurityGroup = new ec2.SecurityGroup(this, 'ScraperSecurityGroup', {
      vpc: cluster.vpc,
      description: `Managed Prometheus scraper of ${this.node.path}: to the Kubernetes API and the metrics ports of the pods`,
      allowAllOutbound: false,
    });
    const clusterSg = cluster.clusterSecurityGroup;
    const ports = [...new Set([443, ...props.metricsPorts])];
    for (const port of ports) {
      const what = port === 443 ? 'the Kubernetes API' : `metrics port ${port}`;
      new ec2.CfnSecurityGroupEgress(this, `ScraperTo${port}`, {
        groupId: this.scraperSecurityGroup.securityGroupId,
        ipProtocol: 'tcp', fromPort: port, toPort: port,
        destinationSecurityGroupId: clusterSg.securityGroupId,
        description: `Managed Prometheus scraper to ${what}`,
      });
      new ec2.CfnSecurityGroupIngress(this, `ClusterFromScraper${port}`, {
        groupId: clusterSg.securityGroupId,
        ipProtocol: 'tcp', fromPort: port, toPort: port,
        sourceSecurityGroupId: this.scraperSecurityGroup.securityGroupId,
        description: `${what} from the managed Prometheus scraper`,
      });
    }

    const subnets = cluster.vpc.selectSubnets(props.scraperSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    if (subnets.subnetIds.length > 5) throw new Error(`ManagedPrometheus: the scraper takes at most 5 subnets, scraperSubnets selects ${subnets.subnetIds.length}`);
    this.scrapeConfiguration = scrapeConfiguration(props.namespaces, interval, props.controlPlaneMetrics ?? true);
    this.scraper = new aps.CfnScraper(this, 'Scraper', {
      alias: `${stack.stackName}-${id}`.slice(0, 100),
      source: { eksConfiguration: { clusterArn: cluster.clusterArn, subnetIds: subnets.subnetIds, securityGroupIds: [this.scraperSecurityGroup.securityGroupId] } },
      destination: { ampConfiguration: { workspaceArn: this.workspace.attrArn } },
      scrapeConfiguration: { configurationBlob: Fn.base64(this.scrapeConfiguration) },
    });

    // attrRoleArn is arn:…:role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_…;
    // an access entry takes the role's ARN without that path.
    const roleArnParts = Fn.split('/', this.scraper.attrRoleArn);
    this.accessEntry = new eksL1.CfnAccessEntry(this, 'ScraperAccess', {
      clusterName: cluster.clusterName,
      principalArn: Fn.join('/', [Fn.select(0, roleArnParts), Fn.select(3, roleArnParts)]),
      type: 'STANDARD',
      username: SCRAPER_KUBERNETES_USER,
    });
    this.scraperRbac = new eks.KubernetesManifest(this, 'ScraperRbac', {
      cluster,
      manifest: scraperRbac(),
      overwrite: true,
    });
  }
}

/** Prometheus scrape configuration (JSON, which is YAML) of the managed scraper. */
function scrapeConfiguration(namespaces: string[], intervalSeconds: number, controlPlane: boolean): string {
  const meta = (a: string) => `__meta_kubernetes_pod_annotation_${a.replace(/[^A-Za-z0-9]/g, '_')}`;
  const pods = {
    job_name: 'pods',
    kubernetes_sd_configs: [{ role: 'pod', namespaces: { names: namespaces } }],
    relabel_configs: [
      { source_labels: [meta(SCRAPE_ANNOTATIONS.scrape)], action: 'keep', regex: 'true' },
      { source_labels: ['__meta_kubernetes_pod_phase'], action: 'drop', regex: 'Pending|Succeeded|Failed' },
      // One target per pod (role pod lists one per declared container port): the annotated port.
      { source_labels: ['__address__', meta(SCRAPE_ANNOTATIONS.port)], action: 'replace', regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' },
      { source_labels: [meta(SCRAPE_ANNOTATIONS.path)], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], target_label: 'app' },
    ],
  };
  const controlPlaneJobs = controlPlane ? [{
    job_name: 'kube-controller-manager',
    scheme: 'https',
    metrics_path: '/apis/metrics.eks.amazonaws.com/v1/kcm/container/metrics',
    bearer_token_file: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    tls_config: { ca_file: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', insecure_skip_verify: true },
    kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: ['default'] } }],
    relabel_configs: [
      { source_labels: ['__meta_kubernetes_namespace', '__meta_kubernetes_service_name', '__meta_kubernetes_endpoint_port_name'], action: 'keep', regex: 'default;kubernetes;https' },
    ],
    // Thousands of series otherwise (work queues, clients): only the Job controller's are kept.
    metric_relabel_configs: [{ source_labels: ['__name__'], action: 'keep', regex: 'job_controller_.*' }],
  }] : [];
  return JSON.stringify({
    global: { scrape_interval: `${intervalSeconds}s`, scrape_timeout: `${Math.min(10, intervalSeconds)}s` },
    scrape_configs: [pods, ...controlPlaneJobs],
  }, undefined, 2);
}

/** The ClusterRole and binding AWS documents for the managed scraper's user (without the non-verb `describe`). */
function scraperRbac(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: SCRAPER_CLUSTER_ROLE },
      rules: [
        { apiGroups: [''], resources: ['nodes', 'nodes/proxy', 'nodes/metrics', 'services', 'endpoints', 'pods', 'ingresses', 'configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['extensions', 'networking.k8s.io'], resources: ['ingresses/status', 'ingresses'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['metrics.eks.amazonaws.com'], resources: ['kcm/metrics', 'ksh/metrics'], verbs: ['get'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: SCRAPER_CLUSTER_ROLE_BINDING },
      subjects: [{ kind: 'User', name: SCRAPER_KUBERNETES_USER, apiGroup: 'rbac.authorization.k8s.io' }],
      roleRef: { kind: 'ClusterRole', name: SCRAPER_CLUSTER_ROLE, apiGroup: 'rbac.authorization.k8s.io' },
    },
  ];
}

/** Alert manager configuration: every alert to the topic, grouped per alert and severity, resolved ones too. */
function alertManagerDefinition(topic: sns.ITopic, region: string): string {
  return [
    'alertmanager_config: |',
    '  route:',
    '    receiver: sns',
    '    group_by: [alertname, severity]',
    '    group_wait: 30s',
    '    group_interval: 5m',
    '    repeat_interval: 4h',
    '  receivers:',
    '    - name: sns',
    '      sns_configs:',
    `        - topic_arn: ${topic.topicArn}`,
    '          send_resolved: true',
    '          sigv4:',
    `            region: ${region}`,
    '          attributes:',
    '            severity: "{{ .CommonLabels.severity }}"',
    '',
  ].join('\n');
}

/**
 * Lets aps.amazonaws.com publish to the topic (and use its key) for workspaces of this account. The
 * conditions name no resource of this construct, so a topic in another stack gets no reference back.
 */
function allowAlertManager(scope: Construct, topic: sns.ITopic): void {
  const aps = new iam.ServicePrincipal('aps.amazonaws.com');
  const fromThisAccount = {
    StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:aps:${Aws.REGION}:${Aws.ACCOUNT_ID}:workspace/*` },
  };
  const topicPolicy = topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ManagedPrometheusAlertManager',
    principals: [aps],
    actions: ['sns:Publish', 'sns:GetTopicAttributes'],
    resources: [topic.topicArn],
    conditions: fromThisAccount,
  }));
  if (!topicPolicy.statementAdded) {
    Annotations.of(scope).addWarningV2('platform:ManagedPrometheus:topicPolicy', 'alarmTopic is imported: allow aps.amazonaws.com sns:Publish and sns:GetTopicAttributes on it yourself');
  }
  const key: kms.IKey | undefined = topic.masterKey;
  if (key) {
    const keyPolicy = key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ManagedPrometheusAlertManager',
      principals: [aps],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }), true);
    if (!keyPolicy.statementAdded) {
      Annotations.of(scope).addWarningV2('platform:ManagedPrometheus:keyPolicy', "alarmTopic's KMS key is imported: allow aps.amazonaws.com kms:GenerateDataKey* and kms:Decrypt on it yourself");
    }
  }
}
