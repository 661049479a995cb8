import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeShortRetention, controlTower } from '../compliance';
import { AlarmSpec, createAlarms, GTE, LT, LTE, over } from './alarms';
import { EncryptionKey } from './encryption-key';

/** When the SearchDomain alarms fire (AWS's recommended OpenSearch alarms; the others have fixed thresholds). */
export interface SearchAlarmThresholds {
  /**
   * FreeStorageSpace (minimum over the nodes) at or below this share of volumeSizeGiB, 1 period of 1 minute.
   * @default 25
   */
  readonly freeStorageSpacePercent?: number;
  /**
   * CPUUtilization (maximum) at or above this for 3 periods of 15 minutes.
   * @default 80
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * JVMMemoryPressure (maximum) at or above this for 3 periods of 1 minute.
   * @default 95
   */
  readonly jvmMemoryPressurePercent?: number;
  /**
   * MasterCPUUtilization (maximum) at or above this for 3 periods of 15 minutes (dedicated masters only).
   * @default 50
   */
  readonly masterCpuUtilizationPercent?: number;
  /**
   * MasterJVMMemoryPressure (maximum) at or above this for 3 periods of 1 minute (dedicated masters only).
   * @default 95
   */
  readonly masterJvmMemoryPressurePercent?: number;
}

export interface SearchDomainProps {
  /** VPC to place the domain in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnet type for the domain; one subnet per zone is used.
   * @default SubnetType.PRIVATE_WITH_EGRESS
   */
  readonly subnetType?: ec2.SubnetType;
  /** Security groups whose members may connect on 443 (the only ingress the domain gets). */
  readonly allowFrom: ec2.ISecurityGroup[];
  /**
   * Engine version.
   * @default EngineVersion.OPENSEARCH_2_19
   */
  readonly version?: opensearch.EngineVersion;
  /**
   * Data node instance type.
   * @default 'r7g.large.search'
   */
  readonly dataNodeType?: string;
  /**
   * Data nodes (a multiple of zoneCount).
   * @default 2
   */
  readonly dataNodes?: number;
  /**
   * Availability zones (1 disables zone awareness).
   * @default 2
   */
  readonly zoneCount?: number;
  /**
   * Dedicated master node type.
   * @default none (no dedicated masters)
   */
  readonly masterNodeType?: string;
  /**
   * Dedicated master count (3 or 5) when masterNodeType is set.
   * @default 3
   */
  readonly masterNodes?: number;
  /**
   * gp3 volume per data node in GiB.
   * @default 20
   */
  readonly volumeSizeGiB?: number;
  /**
   * What a stack delete does to the domain and its logs.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * KMS key for data at rest.
   * @default a new customer managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * IAM principal mapped to the fine-grained access control master role.
   * @default none: an internal master user `admin` whose generated password is kept in Secrets
   *   Manager (`masterUserSecret`, encrypted with `encryptionKey`)
   */
  readonly masterUserArn?: string;
  /**
   * Retention of slow search/index, application and audit logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * CloudWatch alarms: ClusterStatus.red, ClusterStatus.yellow (with 2 or more data nodes),
   * FreeStorageSpace, ClusterIndexWritesBlocked, AutomatedSnapshotFailure, CPUUtilization,
   * JVMMemoryPressure, MasterReachableFromNode, and master CPU and JVM with dedicated masters.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarms fire.
   * @default - the defaults of each SearchAlarmThresholds field
   */
  readonly alarmThresholds?: SearchAlarmThresholds;
}

/**
 * OpenSearch in the VPC's private subnets: zone awareness by props, KMS at rest, node-to-node
 * encryption, HTTPS only with TLS 1.2+ (PFS), fine-grained access control, and slow, application
 * and audit logs in CloudWatch. Needs the `es` service-linked role in the account (README).
 */
export class SearchDomain extends Construct {
  readonly domain: opensearch.Domain;
  readonly securityGroup: ec2.SecurityGroup;
  readonly encryptionKey: kms.IKey;
  readonly logsKey: EncryptionKey;
  readonly logGroup: logs.LogGroup;
  /** Lets the OpenSearch service write into logGroup. */
  readonly logsResourcePolicy: logs.CfnResourcePolicy;
  /** HTTPS endpoint host (no scheme). */
  readonly endpoint: string;
  /**
   * `{ username, password }` of the internal master user, encrypted with `encryptionKey`
   * (undefined with `masterUserArn`).
   */
  readonly masterUserSecret?: secretsmanager.Secret;
  /** The CloudWatch alarms (empty with `alarms: false`). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: SearchDomainProps) {
    super(scope, id);
    const zoneCount = props.zoneCount ?? 2;
    const dataNodes = props.dataNodes ?? 2;
    if (dataNodes % zoneCount !== 0) throw new Error(`SearchDomain: dataNodes (${dataNodes}) must be a multiple of zoneCount (${zoneCount})`);
    if (props.allowFrom.length === 0) throw new Error('SearchDomain: allowFrom needs at least one security group (the domain accepts no other ingress)');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const stack = Stack.of(this);

    this.encryptionKey = props.encryptionKey ?? new EncryptionKey(this, 'Key', { description: `Encrypts OpenSearch ${this.node.path}`, removalPolicy });
    this.logsKey = new EncryptionKey(this, 'LogsKey', { description: `Encrypts the logs of OpenSearch ${this.node.path}`, cloudWatchLogs: true, removalPolicy });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `OpenSearch ${this.node.path}: HTTPS from the workloads only`,
      allowAllOutbound: false,
    });
    for (const sg of props.allowFrom) this.allowFrom(sg);

    // One log group for the four log types keeps the resource policy (and its size limit) small.
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.logGroup = this.logsKey.logGroup(this, 'Logs', { retention, removalPolicy });
    acknowledgeShortRetention(this.logGroup, retention);
    // Written here instead of by the domain's custom resource: no Lambda, no wildcard role.
    this.logsResourcePolicy = new logs.CfnResourcePolicy(this, 'LogsPolicy', {
      policyName: `${stack.stackName}-${this.node.addr}`.slice(0, 255),
      policyDocument: stack.toJsonString({
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'es.amazonaws.com' },
          Action: ['logs:PutLogEvents', 'logs:CreateLogStream'],
          Resource: `${this.logGroup.logGroupArn}`,
          Condition: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }],
      }),
    });

    // Created here rather than by the Domain, which would leave it on the AWS-managed key.
    if (!props.masterUserArn) {
      this.masterUserSecret = new secretsmanager.Secret(this, 'MasterUser', {
        description: `Master user of OpenSearch ${this.node.path}`,
        encryptionKey: this.encryptionKey,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'admin' }),
          generateStringKey: 'password',
          // OpenSearch wants upper, lower, digit and symbol; these symbols break JSON or shells.
          excludeCharacters: "{}'\\*[]()`\"\\/@",
          requireEachIncludedType: true,
          passwordLength: 32,
        },
        removalPolicy,
      });
      acknowledge(this.masterUserSecret, { id: 'AwsSolutions-SMG4', reason: 'The internal master user password (read by operators, and at start by the pods that index and search); OpenSearch cannot take a rotated password without a call to its security API, so rotation is a runbook step.' });
    }

    const subnets = props.vpc.selectSubnets({ subnetType: props.subnetType ?? ec2.SubnetType.PRIVATE_WITH_EGRESS })
      .subnets.slice(0, zoneCount);
    this.domain = new opensearch.Domain(this, 'Domain', {
      version: props.version ?? opensearch.EngineVersion.OPENSEARCH_2_19,
      vpc: props.vpc,
      vpcSubnets: [{ subnets }],
      securityGroups: [this.securityGroup],
      capacity: {
        dataNodeInstanceType: props.dataNodeType ?? 'r7g.large.search',
        dataNodes,
        masterNodeInstanceType: props.masterNodeType,
        masterNodes: props.masterNodeType ? (props.masterNodes ?? 3) : undefined,
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: zoneCount > 1 ? { enabled: true, availabilityZoneCount: zoneCount } : { enabled: false },
      ebs: { volumeSize: props.volumeSizeGiB ?? 20, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true, kmsKey: this.encryptionKey },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
      fineGrainedAccessControl: props.masterUserArn
        ? { masterUserArn: props.masterUserArn }
        : { masterUserName: 'admin', masterUserPassword: this.masterUserSecret!.secretValueFromJson('password') },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: this.logGroup,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: this.logGroup,
        appLogEnabled: true,
        appLogGroup: this.logGroup,
        auditLogEnabled: true,
        auditLogGroup: this.logGroup,
      },
      suppressLogsResourcePolicy: true,
      removalPolicy,
    });
    // Set on the L1: the L2 prop applies access policies through a custom-resource Lambda.
    // Fine-grained access control authorises each request; the network path is the SG above.
    (this.domain.node.defaultChild as opensearch.CfnDomain).accessPolicies = {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { AWS: `arn:${stack.partition}:iam::${stack.account}:root` },
        Action: 'es:ESHttp*',
        Resource: `arn:${stack.partition}:es:${stack.region}:${stack.account}:domain/*/*`,
      }],
    };
    this.domain.node.addDependency(this.logGroup);
    this.endpoint = this.domain.domainEndpoint;

    this.alarms = createAlarms(this, { enabled: props.alarms ?? true, topic: props.alarmTopic }, this.alarmSpecs(props, dataNodes));

    if (!props.masterNodeType) {
      acknowledge(this, { id: 'AwsSolutions-OS4', reason: 'Dedicated master nodes are a cost choice left out in small non-production domains (config search.masterNodeType unset); staging and prod set three.' });
    }
    if (zoneCount === 1) {
      acknowledge(this, { id: 'AwsSolutions-OS7', reason: 'A single-zone domain is an explicit dev cost choice (config search.zoneCount=1); prod validation requires 2 or 3 zones.' });
    }
    if (zoneCount === 1 || dataNodes < 3) {
      acknowledge(this, { id: controlTower('opensearch_data_node_fault_tolerance_check'), reason: 'Fewer than three zone-aware data nodes only where config chooses it for cost (dev, staging); prod runs three data nodes over three zones.' });
    }
    acknowledge(this,
      { id: 'AwsSolutions-OS3', reason: 'The domain lives in private subnets with no public endpoint; its security group admits only the workloads group, and fine-grained access control authenticates every request. An IP allow-list adds nothing inside the VPC.' },
      { id: controlTower('opensearch_https_required_check'), reason: "HTTPS is enforced with Policy-Min-TLS-1-2-PFS-2023-10, which is TLS 1.2+ with forward secrecy only: stricter than the rule's allowed Policy-Min-TLS-1-2-2019-07." });
  }

  /** AWS's recommended alarms (OpenSearch Service Developer Guide, "Recommended CloudWatch alarms"). */
  private alarmSpecs(props: SearchDomainProps, dataNodes: number): AlarmSpec[] {
    const t = props.alarmThresholds ?? {};
    const d = this.domain;
    const minute = Duration.minutes(1);
    const name = `OpenSearch ${this.node.path}`;
    const storagePercent = t.freeStorageSpacePercent ?? 25;
    const storageMiB = Math.round((props.volumeSizeGiB ?? 20) * 1024 * storagePercent / 100);
    const cpu = t.cpuUtilizationPercent ?? 80;
    const jvm = t.jvmMemoryPressurePercent ?? 95;
    const specs: AlarmSpec[] = [
      { id: 'ClusterStatusRed', metric: over(d.metricClusterStatusRed(), 'Maximum', minute), threshold: 1, comparison: GTE,
        description: `${name}: cluster status red, a primary shard is unassigned and its index is unavailable. Check _cluster/allocation/explain and free storage; restore the index from a snapshot if a node was lost.` },
      { id: 'FreeStorageSpace', metric: over(d.metricFreeStorageSpace(), 'Minimum', minute), threshold: storageMiB, comparison: LTE,
        description: `${name}: a node has ${storagePercent} % (${storageMiB} MiB) or less storage free; writes block at the flood-stage watermark. Delete old indices or grow volumeSizeGiB.` },
      { id: 'ClusterIndexWritesBlocked', metric: over(d.metricClusterIndexWritesBlocked(), 'Maximum', Duration.minutes(5)), threshold: 1, comparison: GTE,
        description: `${name}: the cluster blocks writes (storage watermark or JVM pressure). Check FreeStorageSpace and JVMMemoryPressure; search-sync falls behind until it clears.` },
      { id: 'AutomatedSnapshotFailure', metric: over(d.metricAutomatedSnapshotFailure(), 'Maximum', minute), threshold: 1, comparison: GTE,
        description: `${name}: the automated snapshot failed (a red cluster cannot be snapshotted). Check cluster health first.` },
      { id: 'CpuUtilization', metric: over(d.metricCPUUtilization(), 'Maximum', Duration.minutes(15)), threshold: cpu, comparison: GTE, evaluationPeriods: 3,
        description: `${name}: a data node at or above ${cpu} % CPU for 45 min. Check slow search/index logs and the search-sync job; scale the data nodes.` },
      { id: 'JvmMemoryPressure', metric: over(d.metricJVMMemoryPressure(), 'Maximum', minute), threshold: jvm, comparison: GTE, evaluationPeriods: 3,
        description: `${name}: JVM heap pressure at or above ${jvm} % for 3 min; OpenSearch rejects requests and may run out of memory. Check shard count, heavy aggregations and field data.` },
      { id: 'MasterReachableFromNode', metric: over(d.metric('MasterReachableFromNode'), 'Maximum', Duration.days(1)), threshold: 1, comparison: LT,
        description: `${name}: the master node was unreachable (stopped or under pressure) during the last day. Check master CPU and JVM, and the domain's health in the console.` },
    ];
    // A one-node domain stays yellow (replica shards have nowhere to go): no yellow alarm there.
    if (dataNodes >= 2) {
      specs.splice(1, 0, { id: 'ClusterStatusYellow', metric: over(d.metric('ClusterStatus.yellow'), 'Maximum', minute), threshold: 1, comparison: GTE, evaluationPeriods: 5,
        description: `${name}: cluster status yellow for 5 min, a replica shard is unassigned. Check _cluster/allocation/explain and whether a node left the cluster.` });
    }
    if (props.masterNodeType) {
      const masterCpu = t.masterCpuUtilizationPercent ?? 50;
      const masterJvm = t.masterJvmMemoryPressurePercent ?? 95;
      specs.push(
        { id: 'MasterCpuUtilization', metric: over(d.metricMasterCPUUtilization(), 'Maximum', Duration.minutes(15)), threshold: masterCpu, comparison: GTE, evaluationPeriods: 3,
          description: `${name}: a dedicated master at or above ${masterCpu} % CPU for 45 min. Check shard count and mapping updates; use a larger master type.` },
        { id: 'MasterJvmMemoryPressure', metric: over(d.metricMasterJVMMemoryPressure(), 'Maximum', minute), threshold: masterJvm, comparison: GTE, evaluationPeriods: 3,
          description: `${name}: a dedicated master's JVM pressure at or above ${masterJvm} % for 3 min. Check shard count (cluster state size); use a larger master type.` },
      );
    }
    return specs;
  }

  /** Lets a security group connect over HTTPS. */
  allowFrom(peer: ec2.ISecurityGroup): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(443), `OpenSearch from ${peer.node.path}`);
  }
}
