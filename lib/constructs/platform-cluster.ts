import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { CfnCondition, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeShortRetention, controlTower } from '../compliance';
import { AlarmSpec, createAlarms, GT, GTE, over } from './alarms';
import { EncryptionKey } from './encryption-key';

/** The EKS add-on of the CloudWatch agent and Fluent Bit (Container Insights and container logs). */
export const CONTAINER_INSIGHTS_ADDON = 'amazon-cloudwatch-observability';

/** Log groups the CloudWatch agent and Fluent Bit write: `/aws/containerinsights/<cluster>/<name>`. */
export const CONTAINER_INSIGHTS_LOG_GROUPS = ['application', 'dataplane', 'host', 'performance'] as const;

/** Kubernetes versions this construct knows: the kubectl layer and the pinned add-on versions. */
export const CLUSTER_VERSIONS: Record<string, { version: eks.KubernetesVersion; kubectlLayer: (scope: Construct, id: string) => lambda.ILayerVersion; addons: Record<string, string> }> = {
  // Pinned from `aws eks describe-addon-versions --kubernetes-version 1.35`; bump them with the version.
  '1.35': {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: (scope, id) => new KubectlV35Layer(scope, id),
    addons: {
      'vpc-cni': 'v1.21.1-eksbuild.3',
      'kube-proxy': 'v1.35.0-eksbuild.2',
      'coredns': 'v1.13.2-eksbuild.1',
      'eks-pod-identity-agent': 'v1.3.9-eksbuild.5',
      'metrics-server': 'v0.8.0-eksbuild.6',
      // Not read from describe-addon-versions here (no AWS access): check these before the first deploy.
      'aws-ebs-csi-driver': 'v1.54.0-eksbuild.1',
      // CloudWatch agent (Container Insights with enhanced observability) + Fluent Bit.
      [CONTAINER_INSIGHTS_ADDON]: 'v4.7.0-eksbuild.1',
    },
  },
};

/**
 * Add-on settings: the VPC CNI enforces NetworkPolicies (ignored otherwise), and the EBS CSI
 * controller gets its AWS role through Pod Identity (below).
 */
const ADDON_CONFIGURATION: Record<string, Record<string, unknown>> = {
  'vpc-cni': { enableNetworkPolicy: 'true' },
};

/**
 * The kubelet's pod limit as AL2023 nodeadm reads it: a NodeConfig part of MIME user data, which a
 * managed node group merges with its own (no AMI id in the template, so EKS still bootstraps).
 */
export function maxPodsUserData(maxPods: number): ec2.UserData {
  if (!Number.isInteger(maxPods) || maxPods < 8 || maxPods > 250) {
    throw new Error(`PlatformCluster: maxPodsPerNode must be an integer from 8 to 250 (got ${maxPods})`);
  }
  const userData = new ec2.MultipartUserData();
  userData.addPart(ec2.MultipartBody.fromRawBody({
    contentType: 'application/node.eks.aws',
    body: ['---', 'apiVersion: node.eks.aws/v1alpha1', 'kind: NodeConfig', 'spec:', '  kubelet:', '    config:', `      maxPods: ${maxPods}`, ''].join('\n'),
  }));
  return userData;
}

/** Namespace and service account of the CloudWatch agent and Fluent Bit (the add-on's own). */
const CLOUDWATCH_AGENT = { namespace: 'amazon-cloudwatch', serviceAccount: 'cloudwatch-agent' };

/** Service account of the EBS CSI controller (the add-on's own). */
const EBS_CSI_SERVICE_ACCOUNT = 'ebs-csi-controller-sa';

/** Every control-plane log type, all on: the audit trail of who did what to the cluster. */
const CONTROL_PLANE_LOGS = [
  eks.ClusterLoggingTypes.API,
  eks.ClusterLoggingTypes.AUDIT,
  eks.ClusterLoggingTypes.AUTHENTICATOR,
  eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
  eks.ClusterLoggingTypes.SCHEDULER,
];

/** A resource tag: key and value. */
export interface ResourceTag {
  readonly key: string;
  readonly value: string;
}

/**
 * Key of the tag (value: the cluster name) a target group must carry before the cluster's load
 * balancer controller may register or deregister targets in it.
 */
export const TARGET_GROUP_BINDING_TAG_KEY = 'target-group-binding/cluster';

/**
 * Read calls of the AWS Load Balancer Controller, as in its reference policy. EC2 and Elastic Load
 * Balancing Describe/Get calls support no resource-level permissions, so they are granted on `*`.
 */
const LOAD_BALANCER_CONTROLLER_READS = [
  'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways',
  'ec2:DescribeVpcs', 'ec2:DescribeVpcPeeringConnections', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
  'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeTags', 'ec2:GetCoipPoolUsage', 'ec2:DescribeCoipPools',
  'ec2:GetSecurityGroupsForVpc', 'ec2:DescribeIpamPools', 'ec2:DescribeRouteTables',
  'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeListenerCertificates', 'elasticloadbalancing:DescribeSSLPolicies', 'elasticloadbalancing:DescribeRules',
  'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTrustStores', 'elasticloadbalancing:DescribeListenerAttributes',
  'elasticloadbalancing:DescribeCapacityReservation',
];

export interface PlatformClusterProps {
  readonly vpc: ec2.IVpc;
  /**
   * Cluster name (fixed, so the control-plane log group can be created encrypted beforehand).
   * @default a unique name derived from the construct path
   */
  readonly clusterName?: string;
  /**
   * Kubernetes minor version; must be a key of CLUSTER_VERSIONS.
   * @default '1.35'
   */
  readonly kubernetesVersion?: string;
  /**
   * API endpoint access.
   * @default EndpointAccess.PRIVATE
   */
  readonly endpointAccess?: eks.EndpointAccess;
  /**
   * Node instance types, all of one CPU architecture (Graviton `g` types get the ARM AMI).
   * @default [m7g.large]
   */
  readonly nodeInstanceTypes?: ec2.InstanceType[];
  /**
   * On-demand or spot nodes.
   * @default CapacityType.ON_DEMAND
   */
  readonly capacityType?: eks.CapacityType;
  /**
   * Node group minimum size.
   * @default 2
   */
  readonly minNodes?: number;
  /**
   * Node group maximum size.
   * @default 6
   */
  readonly maxNodes?: number;
  /**
   * Node group size at creation (later owned by the autoscaler).
   * @default minNodes
   */
  readonly desiredNodes?: number;
  /**
   * Root volume per node in GiB (gp3, encrypted).
   * @default 50
   */
  readonly nodeDiskGiB?: number;
  /**
   * Pods each node may run. When set, the VPC CNI assigns /28 prefixes instead of single addresses
   * (prefix delegation; Nitro instances, subnets with free /28 blocks) and the kubelet's `maxPods`
   * is set through the launch template's NodeConfig. Small nodes need it: without prefixes a
   * t4g.small runs 11 pods, of which 6 are the add-ons' DaemonSets. The kubelet reserves memory
   * for this many pods (AL2023: 11 MiB each plus 255 MiB), so keep it near what the node can hold.
   * @default - no prefix delegation; EKS's own figure for the instance type (t4g.small 11, m7g.large 29)
   */
  readonly maxPodsPerNode?: number;
  /**
   * Extra security groups every node carries besides the cluster security group, e.g. the group
   * the data stores accept.
   * @default none
   */
  readonly nodeSecurityGroups?: ec2.ISecurityGroup[];
  /**
   * IAM role or user ARNs given cluster-admin through access entries.
   * @default none (the deploying role gets no implicit access either)
   */
  readonly adminPrincipalArns?: string[];
  /**
   * Retention of the control-plane logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Install the AWS Load Balancer Controller for TargetGroupBinding only: it may read EC2 and
   * Elastic Load Balancing, and register or deregister targets in target groups tagged with
   * `targetGroupBindingTag`; it cannot create, change or delete load balancers, listeners,
   * rules, security groups or their rules, WAF or Shield associations (Ingress and Services of
   * type LoadBalancer are not served).
   * @default true
   */
  readonly albController?: boolean;
  /**
   * What a stack delete does to the KMS key and logs.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Container Insights: the `amazon-cloudwatch-observability` add-on (CloudWatch agent with enhanced
   * observability, Fluent Bit shipping container logs) with a Pod Identity role, and its four log
   * groups created here first, encrypted with `logsKey` (not left to the agent). Needed by the alarms.
   * @default true
   */
  readonly containerInsights?: boolean;
  /**
   * Retention of the Container Insights log groups (application, dataplane, host, performance).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly containerLogRetention?: logs.RetentionDays;
  /**
   * CloudWatch alarms on Container Insights metrics: failed nodes, node CPU and memory, and per
   * namespace in `alarmNamespaces` container restarts and OOM kills. Needs `containerInsights`.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Namespaces whose pods get the restart and OOM-kill alarms.
   * @default ['default']
   */
  readonly alarmNamespaces?: string[];
  /**
   * When the alarms fire.
   * @default - the defaults of each ClusterAlarmThresholds field
   */
  readonly alarmThresholds?: ClusterAlarmThresholds;
}

/** When the PlatformCluster alarms fire (Container Insights metrics, periods of 5 minutes). */
export interface ClusterAlarmThresholds {
  /**
   * cluster_failed_node_count (maximum: nodes with a failing condition, e.g. not Ready) at or above this for 2 periods.
   * @default 1
   */
  readonly failedNodes?: number;
  /**
   * node_cpu_utilization (average over the nodes) above this for 3 periods.
   * @default 80
   */
  readonly nodeCpuUtilizationPercent?: number;
  /**
   * node_memory_utilization (average over the nodes) above this for 3 periods.
   * @default 80
   */
  readonly nodeMemoryUtilizationPercent?: number;
  /**
   * Container restarts in a namespace (increase of pod_number_of_container_restarts within a period) above this.
   * @default 3
   */
  readonly containerRestartsPer5Min?: number;
  /**
   * pod_container_status_terminated_reason_oom_killed (maximum) in a namespace at or above this.
   * @default 1
   */
  readonly oomKilledContainers?: number;
}

/**
 * EKS (aws-eks-v2) for the platform: Kubernetes version with its kubectl layer, Kubernetes secrets
 * encrypted with a KMS key, all control-plane logs into an encrypted log group, access entries only
 * (no aws-auth), a managed AL2023 node group over the private subnets (IMDSv2, encrypted disks,
 * extra node security groups through a launch template), pinned core add-ons with Pod Identity and
 * metrics-server, and the AWS Load Balancer Controller for TargetGroupBinding.
 *
 * Managed node groups rather than Auto Mode: Auto Mode brings its own load balancer handling, which
 * cannot be mixed with the AWS Load Balancer Controller that binds pods into the CDK-made target group.
 */
export class PlatformCluster extends Construct {
  readonly cluster: eks.Cluster;
  readonly secretsKey: EncryptionKey;
  readonly logsKey: EncryptionKey;
  readonly controlPlaneLogGroup: logs.LogGroup;
  readonly nodegroup: eks.Nodegroup;
  readonly nodeRole: iam.Role;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly kubectlLayer: lambda.ILayerVersion;
  /** Group of the kubectl provider Lambdas. */
  readonly kubectlSecurityGroup: ec2.SecurityGroup;
  readonly addons: Record<string, eks.IAddon> = {};
  /** Role of the EBS CSI controller (Pod Identity): provisions the encrypted gp3 volumes of PVCs. */
  readonly ebsCsiRole: iam.Role;
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  /** The EKS-made cluster security group (control plane and every node). */
  readonly clusterSecurityGroup: ec2.ISecurityGroup;
  /** Container Insights log groups by name (application, dataplane, host, performance); empty without containerInsights. */
  readonly containerInsightsLogGroups: Record<string, logs.LogGroup> = {};
  /** Pod Identity role of the CloudWatch agent and Fluent Bit (undefined without containerInsights). */
  readonly cloudWatchAgentRole?: iam.Role;
  /** The CloudWatch alarms (empty with `alarms: false` or without containerInsights). */
  readonly alarms: cloudwatch.Alarm[];
  /**
   * Tag a target group needs before the load balancer controller may register pods in it
   * (`TARGET_GROUP_BINDING_TAG_KEY` = the cluster name).
   */
  readonly targetGroupBindingTag: ResourceTag;

  constructor(scope: Construct, id: string, props: PlatformClusterProps) {
    super(scope, id);
    this.kubernetesVersion = props.kubernetesVersion ?? '1.35';
    const known = CLUSTER_VERSIONS[this.kubernetesVersion];
    if (!known) {
      throw new Error(`PlatformCluster: kubernetesVersion ${this.kubernetesVersion} has no kubectl layer and pinned add-ons here; use one of ${Object.keys(CLUSTER_VERSIONS).join(', ')}`);
    }
    const instanceTypes = props.nodeInstanceTypes ?? [new ec2.InstanceType('m7g.large')];
    const arches = new Set(instanceTypes.map((t) => t.architecture));
    if (arches.size !== 1) throw new Error('PlatformCluster: nodeInstanceTypes must all share one CPU architecture (one AMI per node group)');
    const arm = instanceTypes[0].architecture === ec2.InstanceArchitecture.ARM_64;
    const minNodes = props.minNodes ?? 2;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const stack = Stack.of(this);
    this.clusterName = props.clusterName ?? `${stack.stackName}-${this.node.addr.slice(0, 8)}`;
    this.targetGroupBindingTag = { key: TARGET_GROUP_BINDING_TAG_KEY, value: this.clusterName };

    this.secretsKey = new EncryptionKey(this, 'SecretsKey', { description: `Encrypts Kubernetes secrets of ${this.clusterName}`, removalPolicy });
    this.logsKey = new EncryptionKey(this, 'LogsKey', { description: `Encrypts the control-plane logs of ${this.clusterName}`, cloudWatchLogs: true, removalPolicy });
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    // EKS writes into this exact name; creating it first makes it encrypted and bounded.
    this.controlPlaneLogGroup = this.logsKey.logGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${this.clusterName}/cluster`,
      retention,
      removalPolicy,
    });
    acknowledgeShortRetention(this.controlPlaneLogGroup, retention);

    this.kubectlLayer = known.kubectlLayer(this, 'KubectlLayer');
    // The kubectl handlers get a group of their own: reviewable, and let in to the API on 443 below.
    this.kubectlSecurityGroup = new ec2.SecurityGroup(this, 'KubectlSecurityGroup', {
      vpc: props.vpc,
      description: `kubectl provider of ${this.clusterName}: HTTPS to the Kubernetes API and AWS APIs`,
      allowAllOutbound: true,
    });
    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: this.clusterName,
      version: known.version,
      vpc: props.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess: props.endpointAccess ?? eks.EndpointAccess.PRIVATE,
      secretsEncryptionKey: this.secretsKey,
      clusterLogging: CONTROL_PLANE_LOGS,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      bootstrapClusterCreatorAdminPermissions: false,
      bootstrapSelfManagedAddons: false,
      kubectlProviderOptions: { kubectlLayer: this.kubectlLayer, securityGroups: [this.kubectlSecurityGroup] },
      albController: props.albController === false ? undefined : {
        version: eks.AlbControllerVersion.V2_17_1,
        policy: this.loadBalancerControllerPolicy(),
      },
    });
    this.cluster.node.addDependency(this.controlPlaneLogGroup);
    this.clusterSecurityGroup = this.cluster.clusterSecurityGroup;
    this.clusterSecurityGroup.addIngressRule(this.kubectlSecurityGroup, ec2.Port.tcp(443), 'kubectl provider to the Kubernetes API');

    const containerInsights = props.containerInsights ?? true;
    for (const [name, version] of Object.entries(known.addons)) {
      if (name === CONTAINER_INSIGHTS_ADDON && !containerInsights) continue;
      if (name === 'eks-pod-identity-agent') {
        // The cluster owns this one (addServiceAccount depends on it); pin its version on the L1.
        const agent = this.cluster.eksPodIdentityAgent!;
        (agent.node.defaultChild as eks.CfnAddon).addonVersion = version;
        this.addons[name] = agent;
        continue;
      }
      this.addons[name] = new eks.Addon(this, `Addon-${name}`, {
        cluster: this.cluster,
        addonName: name,
        addonVersion: version,
        preserveOnDelete: false,
        configurationValues: name === 'vpc-cni' && props.maxPodsPerNode !== undefined
          ? { ...ADDON_CONFIGURATION[name], env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } }
          : ADDON_CONFIGURATION[name],
      });
    }
    this.ebsCsiRole = new iam.Role(this, 'EbsCsiRole', {
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy')],
      description: `EBS CSI controller of ${this.clusterName} (Pod Identity)`,
    });
    const ebsCsi = this.addons['aws-ebs-csi-driver'];
    if (ebsCsi) {
      (ebsCsi.node.defaultChild as eks.CfnAddon).podIdentityAssociations = [{ serviceAccount: EBS_CSI_SERVICE_ACCOUNT, roleArn: this.ebsCsiRole.roleArn }];
      ebsCsi.node.addDependency(this.addons['eks-pod-identity-agent']);
    }

    if (containerInsights) this.cloudWatchAgentRole = this.containerInsightsPrerequisites(props.containerLogRetention ?? logs.RetentionDays.ONE_YEAR, removalPolicy);

    (props.adminPrincipalArns ?? []).forEach((arn, i) => this.cluster.grantClusterAdmin(`Admin${i}`, arn));

    this.nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore']
        .map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n)),
    });

    // Node security groups through a launch template: with one, EKS no longer adds the cluster
    // group by itself, so it is listed here too.
    this.launchTemplate = new ec2.LaunchTemplate(this, 'NodeTemplate', {
      requireImdsv2: true,
      // Pods get AWS credentials from Pod Identity, never from the node's instance profile.
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      securityGroup: this.clusterSecurityGroup,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(props.nodeDiskGiB ?? 50, { volumeType: ec2.EbsDeviceVolumeType.GP3, encrypted: true }),
      }],
      userData: props.maxPodsPerNode === undefined ? undefined : maxPodsUserData(props.maxPodsPerNode),
    });
    for (const sg of props.nodeSecurityGroups ?? []) this.launchTemplate.addSecurityGroup(sg);

    this.nodegroup = this.cluster.addNodegroupCapacity('Nodes', {
      instanceTypes,
      amiType: arm ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD : eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      capacityType: props.capacityType ?? eks.CapacityType.ON_DEMAND,
      minSize: minNodes,
      maxSize: props.maxNodes ?? 6,
      desiredSize: props.desiredNodes ?? minNodes,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      nodeRole: this.nodeRole,
      launchTemplateSpec: { id: this.launchTemplate.launchTemplateId!, version: this.launchTemplate.latestVersionNumber },
      maxUnavailablePercentage: 33,
      enableNodeAutoRepair: true,
    });
    // Nodes need the CNI before they can become Ready.
    this.nodegroup.node.addDependency(this.addons['vpc-cni']);

    this.alarms = createAlarms(this, { enabled: (props.alarms ?? true) && containerInsights, topic: props.alarmTopic },
      this.alarmSpecs(props.alarmNamespaces ?? ['default'], props.alarmThresholds ?? {}));

    // The kubectl provider's own log groups: encrypt them like every other log group here.
    for (const child of this.node.findAll()) {
      if (child instanceof logs.CfnLogGroup && child.kmsKeyId === undefined) child.kmsKeyId = this.logsKey.keyArn;
    }
    this.acknowledgeFindings();
  }

  /**
   * The add-on's log groups, created encrypted and bounded before the add-on (the agent would create
   * them unencrypted and kept forever), and its Pod Identity role.
   */
  private containerInsightsPrerequisites(retention: logs.RetentionDays, removalPolicy: RemovalPolicy): iam.Role {
    for (const name of CONTAINER_INSIGHTS_LOG_GROUPS) {
      const group = this.logsKey.logGroup(this, `ContainerInsights-${name}`, {
        logGroupName: `/aws/containerinsights/${this.clusterName}/${name}`,
        retention,
        removalPolicy,
      });
      acknowledgeShortRetention(group, retention);
      this.containerInsightsLogGroups[name] = group;
    }
    const role = new iam.Role(this, 'CloudWatchAgentRole', {
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy')],
      description: `CloudWatch agent and Fluent Bit of ${this.clusterName} (Pod Identity): Container Insights metrics and container logs`,
    });
    acknowledge(role, {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]',
      reason: 'The AWS-managed policy EKS documents for the amazon-cloudwatch-observability add-on: PutMetricData, PutLogEvents and the describe calls the agent makes; AWS keeps it in step with the agent.',
    });
    const addon = this.addons[CONTAINER_INSIGHTS_ADDON];
    (addon.node.defaultChild as eks.CfnAddon).podIdentityAssociations = [{ serviceAccount: CLOUDWATCH_AGENT.serviceAccount, roleArn: role.roleArn }];
    addon.node.addDependency(this.addons['eks-pod-identity-agent'], ...Object.values(this.containerInsightsLogGroups));
    return role;
  }

  private alarmSpecs(namespaces: string[], t: ClusterAlarmThresholds): AlarmSpec[] {
    const five = Duration.minutes(5);
    const metric = (name: string, statistic: string, dimensions: Record<string, string> = {}) => over(new cloudwatch.Metric({
      namespace: 'ContainerInsights', metricName: name, dimensionsMap: { ClusterName: this.clusterName, ...dimensions },
    }), statistic, five);
    const cluster = `EKS ${this.clusterName}`;
    const failed = t.failedNodes ?? 1;
    const cpu = t.nodeCpuUtilizationPercent ?? 80;
    const memory = t.nodeMemoryUtilizationPercent ?? 80;
    const restarts = t.containerRestartsPer5Min ?? 3;
    const oom = t.oomKilledContainers ?? 1;
    const specs: AlarmSpec[] = [
      { id: 'FailedNodes', metric: metric('cluster_failed_node_count', 'Maximum'), threshold: failed, comparison: GTE, evaluationPeriods: 2,
        description: `${cluster}: ${failed} or more nodes with a failing condition (NotReady, memory/disk/PID pressure) for 10 min. Check kubectl get nodes and describe node; node auto repair replaces unhealthy nodes.` },
      { id: 'NodeCpu', metric: metric('node_cpu_utilization', 'Average'), threshold: cpu, comparison: GT, evaluationPeriods: 3,
        description: `${cluster}: nodes above ${cpu} % CPU on average for 15 min. Check kubectl top pods and HPA limits; raise cluster.maxNodes or the node type.` },
      { id: 'NodeMemory', metric: metric('node_memory_utilization', 'Average'), threshold: memory, comparison: GT, evaluationPeriods: 3,
        description: `${cluster}: nodes above ${memory} % memory on average for 15 min; pods are evicted next. Check kubectl top pods and memory limits.` },
    ];
    for (const ns of namespaces) {
      const id = ns.replace(/[^A-Za-z0-9]/g, '');
      specs.push(
        { id: `Restarts-${id}`,
          metric: new cloudwatch.MathExpression({ expression: 'DIFF(restarts)', usingMetrics: { restarts: metric('pod_number_of_container_restarts', 'Maximum', { Namespace: ns }) }, period: five, label: `container restarts in ${ns}` }),
          threshold: restarts, comparison: GT,
          description: `${cluster}: more than ${restarts} container restarts in namespace ${ns} in 5 min (crash loop or failing liveness probe). Check kubectl -n ${ns} get pods and logs --previous.` },
        { id: `OomKilled-${id}`, metric: metric('pod_container_status_terminated_reason_oom_killed', 'Maximum', { Namespace: ns }), threshold: oom, comparison: GTE,
          description: `${cluster}: a container in namespace ${ns} was OOM-killed. Check kubectl -n ${ns} describe pod (Last State: OOMKilled) and raise its memory limit or find the leak.` },
      );
    }
    return specs;
  }

  private acknowledgeFindings(): void {
    const awsManaged = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;
    acknowledge(this.nodeRole, ...['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore'].map((n) => ({
      id: awsManaged(n),
      reason: 'The AWS-managed node policies EKS documents for managed node groups; AWS updates them with the kubelet, CNI and SSM agent, which a hand-written copy would lag behind.',
    })));
    acknowledge(this.ebsCsiRole, {
      id: awsManaged('service-role/AmazonEBSCSIDriverPolicy'),
      reason: 'The AWS-managed policy of the EBS CSI driver: its volume and snapshot calls are conditioned on the driver\'s own ebs.csi.aws.com tags, and AWS keeps it in step with the driver versions.',
    });
    acknowledge(this.cluster.role, {
      id: awsManaged('AmazonEKSClusterPolicy'),
      reason: 'The AWS-managed service role policy the EKS control plane requires; AWS maintains it as EKS gains features.',
    });
    const provider = this.cluster.node.tryFindChild('KubectlProvider');
    if (provider) {
      const handler = provider.node.findChild('Handler');
      acknowledge(provider,
        { id: awsManaged('service-role/AWSLambdaBasicExecutionRole'), reason: "CDK's kubectl provider Lambdas only write their own logs with this AWS-managed policy." },
        { id: awsManaged('service-role/AWSLambdaVPCAccessExecutionRole'), reason: "CDK's kubectl provider needs ENI management to run in the VPC when the endpoint is private; the AWS-managed policy is exactly that." },
        { id: `AwsSolutions-IAM4[Policy::{"Fn::If":["${Stack.of(this).getLogicalId(handler.node.findChild('HasEcrPublic') as CfnCondition)}",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}]`, reason: 'Read-only pull from ECR Public for Helm charts hosted there, attached only in partitions that have ECR Public.' },
        { id: awsManaged('AmazonEC2ContainerRegistryReadOnly'), reason: 'The kubectl provider pulls Helm charts from ECR (the AWS Load Balancer Controller chart); read-only access.' },
        { id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handler.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`, reason: 'The provider framework may invoke any version of its own handler function (`<handler arn>:*`); the wildcard is scoped to that one function.' },
        { id: 'AwsSolutions-L1', reason: 'The runtime of the kubectl handler is chosen and tested by aws-cdk-lib together with the kubectl layer; upgrading the library moves it.' },
        { id: controlTower('lambda_inside_vpc_check'), reason: 'With a public-and-private endpoint (dev) the kubectl provider reaches the API publicly from AWS Lambda; with a private endpoint (prod) CDK places the handler in the private subnets. The framework Lambda only invokes the handler.' },
      );
    }
    const controller = this.cluster.albController;
    if (controller) {
      const stack = Stack.of(this);
      const literal = (v: string, pseudo: string) => (Token.isUnresolved(v) ? `<${pseudo}>` : v);
      acknowledge(controller, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only the controller\'s EC2 and Elastic Load Balancing Describe/Get calls are granted on *: those APIs support no resource-level permissions. No write action is.',
      }, {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:elasticloadbalancing:${literal(stack.region, 'AWS::Region')}:${literal(stack.account, 'AWS::AccountId')}:targetgroup/*/*]`,
        reason: `RegisterTargets and DeregisterTargets only, on target groups of this account and region that carry the tag ${TARGET_GROUP_BINDING_TAG_KEY}=<cluster name> (a condition on the statement); the target group name is chosen by CloudFormation, so it cannot be written here.`,
      });
    }
    acknowledge(this.cluster, { id: 'CloudFormation-Validate::W9009', reason: 'aws-cdk-lib writes EncryptionConfig.Resources=["secrets"], the documented way to turn on envelope encryption of Kubernetes secrets; the linter only notes the field as legacy.' });
    // What the template says, read from the L1 (EndpointAccess keeps its settings internal).
    const vpcConfig = (this.cluster.node.defaultChild as eks.CfnCluster).resourcesVpcConfig as eks.CfnCluster.ResourcesVpcConfigProperty;
    if (vpcConfig.endpointPublicAccess === true) {
      acknowledge(this.cluster, {
        id: controlTower('eks_endpoint_no_public_access_check'),
        reason: 'A public API endpoint is a config choice for non-production environments only (prod validation requires private) and is limited to the CIDRs in cluster.publicAccessCidrs; every request still needs IAM authentication and an access entry.',
      });
    }
  }

  /**
   * The load balancer controller's IAM policy, for TargetGroupBinding only: reads, and target
   * (de)registration in target groups tagged for this cluster. The reference policy's other writes
   * (load balancers, listeners, rules, security groups, WAF, Shield) are left out: the platform's
   * load balancer and target group are CloudFormation's, and the edge stack writes the one
   * security group rule the binding needs.
   */
  private loadBalancerControllerPolicy(): { Version: string; Statement: unknown[] } {
    const stack = Stack.of(this);
    return {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: LOAD_BALANCER_CONTROLLER_READS, Resource: '*' },
        {
          Effect: 'Allow',
          Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
          Resource: `arn:${stack.partition}:elasticloadbalancing:${stack.region}:${stack.account}:targetgroup/*/*`,
          Condition: { StringEquals: { [`aws:ResourceTag/${TARGET_GROUP_BINDING_TAG_KEY}`]: this.clusterName } },
        },
      ],
    };
  }

  /**
   * A Kubernetes service account bound to an IAM role through EKS Pod Identity (the agent add-on is
   * a dependency); leave `options.identityType` out or set it to POD_IDENTITY.
   */
  addServiceAccount(id: string, options: eks.ServiceAccountOptions): eks.ServiceAccount {
    // jsii (the Python build) takes no Omit<>: another identity type is refused here instead of in the type.
    if (options.identityType !== undefined && options.identityType !== eks.IdentityType.POD_IDENTITY) {
      throw new Error(`PlatformCluster.addServiceAccount: options.identityType must be left out or POD_IDENTITY (got ${options.identityType}); service accounts here use EKS Pod Identity`);
    }
    return this.cluster.addServiceAccount(id, { ...options, identityType: eks.IdentityType.POD_IDENTITY });
  }
}
