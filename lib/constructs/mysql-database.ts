import { Duration, Names, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeShortRetention, controlTower } from '../compliance';
import { createAlarms, GT, LT, over } from './alarms';
import { EncryptionKey } from './encryption-key';

/** Every log type RDS for MySQL exports (Control Tower CT.RDS.PR.14 asks for all). */
const LOG_TYPES = ['audit', 'error', 'general', 'slowquery'] as const;

/** When the MysqlDatabase alarms fire. */
export interface MysqlAlarmThresholds {
  /**
   * CPUUtilization (average) at or above this for 3 periods of 5 minutes.
   * @default 80
   */
  readonly cpuUtilizationPercent?: number;
  /**
   * FreeStorageSpace (minimum) below this, in GiB, for 1 period of 5 minutes.
   * @default 10 % of allocatedStorageGiB
   */
  readonly freeStorageSpaceGiB?: number;
  /**
   * FreeableMemory (minimum) below this, in MiB, for 3 periods of 5 minutes.
   * @default 10 % of the instance class's memory (t, m and r classes; 256 MiB for another class)
   */
  readonly freeableMemoryMiB?: number;
  /**
   * DatabaseConnections (maximum) at or above this for 3 periods of 5 minutes.
   * @default 80 % of MySQL's default max_connections for the class (DBInstanceClassMemory / 12582880,
   *   DBInstanceClassMemory taken as 90 % of the class memory); 500 for another class
   */
  readonly connections?: number;
  /**
   * CPUCreditBalance (minimum) below this for 3 periods of 5 minutes; burstable (t) classes only.
   * @default 20
   */
  readonly cpuCreditBalance?: number;
}

export interface MysqlDatabaseProps {
  /** VPC to place the database in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the DB subnet group.
   * @default the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups whose members may connect (the only ingress the database gets). */
  readonly allowFrom: ec2.ISecurityGroup[];
  /**
   * Instance type.
   * @default t4g.medium
   */
  readonly instanceType?: ec2.InstanceType;
  /**
   * MySQL engine version (8.4 LTS line).
   * @default MysqlEngineVersion.VER_8_4_10
   */
  readonly engineVersion?: rds.MysqlEngineVersion;
  /**
   * Synchronous standby in a second availability zone.
   * @default true
   */
  readonly multiAz?: boolean;
  /**
   * Initial storage in GiB (gp3).
   * @default 20
   */
  readonly allocatedStorageGiB?: number;
  /**
   * Storage autoscaling ceiling in GiB.
   * @default 100
   */
  readonly maxAllocatedStorageGiB?: number;
  /**
   * Automated backup retention.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;
  /**
   * Name of the database created with the instance.
   * @default 'app'
   */
  readonly databaseName?: string;
  /**
   * Master user name; the password is generated and kept by RDS in Secrets Manager.
   * @default 'dbadmin'
   */
  readonly masterUsername?: string;
  /**
   * Listener port. Not the engine default, which scanners try first (Control Tower CT.RDS.PR.20).
   * @default 13306
   */
  readonly port?: number;
  /**
   * DB instance identifier.
   * @default a unique name derived from the construct path
   */
  readonly instanceIdentifier?: string;
  /**
   * What a stack delete does: SNAPSHOT keeps a final snapshot, RETAIN keeps the instance.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection.
   * @default true unless removalPolicy is DESTROY
   */
  readonly deletionProtection?: boolean;
  /**
   * KMS key for storage, Performance Insights and the master secret.
   * @default a new customer managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of the exported logs (audit, error, general, slow query).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Extra parameters merged over the defaults (utf8mb4, TLS only, slow query log).
   * @default none
   */
  readonly parameters?: Record<string, string>;
  /**
   * CloudWatch alarms on CPU, free storage, freeable memory, connections and (t classes) CPU credits.
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
   * @default - the defaults of each MysqlAlarmThresholds field
   */
  readonly alarmThresholds?: MysqlAlarmThresholds;
}

/** GiB of memory of an RDS class like `t4g.micro` or `r7g.2xlarge` (t, m and r families), else undefined. */
function mysqlClassMemoryGiB(instanceType: string): number | undefined {
  const m = /^([tmr])\d+[a-z]*\.(nano|micro|small|medium|large|(\d*)xlarge)$/.exec(instanceType.replace(/^db\./, ''));
  if (!m) return undefined;
  const large = m[1] === 'r' ? 16 : 8;
  const fractions: Record<string, number> = { nano: 1 / 16, micro: 1 / 8, small: 1 / 4, medium: 1 / 2, large: 1 };
  const factor = fractions[m[2]] ?? 2 * Number(m[3] || 1);
  return large * factor;
}

/**
 * RDS MySQL 8.4 for the services: encrypted with a customer managed key, master password owned
 * by RDS in Secrets Manager (no secret in any template, no rotation Lambda), IAM auth, TLS
 * required, utf8mb4, logs exported to CloudWatch, backups, and snapshot/deletion protection.
 */
export class MysqlDatabase extends Construct {
  readonly instance: rds.DatabaseInstance;
  readonly securityGroup: ec2.SecurityGroup;
  readonly parameterGroup: rds.ParameterGroup;
  readonly optionGroup: rds.OptionGroup;
  readonly subnetGroup: rds.SubnetGroup;
  readonly encryptionKey: kms.IKey;
  /** Key of the exported log groups. */
  readonly logsKey: EncryptionKey;
  /** Log groups RDS exports into, one per log type. */
  readonly logGroups: logs.LogGroup[];
  readonly monitoringRole: iam.Role;
  /** DB instance identifier (fixed at synth). */
  readonly instanceIdentifier: string;
  /** RDS-managed master user secret (JSON with username and password). */
  readonly secretArn: string;
  readonly endpoint: rds.Endpoint;
  readonly port: number;
  /** The CloudWatch alarms (empty with `alarms: false`). */
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: MysqlDatabaseProps) {
    super(scope, id);
    if (props.allowFrom.length === 0) throw new Error('MysqlDatabase: allowFrom needs at least one security group (the database accepts no other ingress)');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    const engineVersion = props.engineVersion ?? rds.MysqlEngineVersion.VER_8_4_10;
    const engine = rds.DatabaseInstanceEngine.mysql({ version: engineVersion });
    this.port = props.port ?? 13306;
    const multiAz = props.multiAz ?? true;
    const deletionProtection = props.deletionProtection ?? !destroy;

    this.encryptionKey = props.encryptionKey ?? new EncryptionKey(this, 'Key', {
      description: `Encrypts MySQL ${this.node.path}`,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.logsKey = new EncryptionKey(this, 'LogsKey', {
      description: `Encrypts the logs of MySQL ${this.node.path}`,
      cloudWatchLogs: true,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    // A fixed identifier lets this construct own the log groups RDS exports into (encrypted, with
    // retention) instead of CDK's log-retention Lambda.
    this.instanceIdentifier = props.instanceIdentifier ?? Names.uniqueResourceName(this, { maxLength: 60, separator: '-' }).toLowerCase();
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.logGroups = LOG_TYPES.map((type) => this.logsKey.logGroup(this, `Log-${type}`, {
      logGroupName: `/aws/rds/instance/${this.instanceIdentifier}/${type}`,
      retention,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    }));
    this.logGroups.forEach((g) => acknowledgeShortRetention(g, retention));
    this.monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    acknowledge(this.monitoringRole, {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'The AWS-maintained policy made for the Enhanced Monitoring agent: it only writes to the RDSOSMetrics log group, and AWS keeps it in step with the agent.',
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `MySQL ${this.node.path}: ingress from the workloads only`,
      allowAllOutbound: false,
    });
    for (const sg of props.allowFrom) {
      this.securityGroup.addIngressRule(sg, ec2.Port.tcp(this.port), `MySQL from ${sg.node.path}`);
    }

    this.parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'utf8mb4, TLS only, slow query log',
      parameters: {
        character_set_server: 'utf8mb4',
        collation_server: 'utf8mb4_0900_ai_ci',
        require_secure_transport: '1',
        slow_query_log: '1',
        long_query_time: '1',
        log_output: 'FILE',
        ...props.parameters,
      },
    });

    // The audit log needs the MariaDB audit plugin; connections and DDL/DCL are what reviewers ask for.
    this.optionGroup = new rds.OptionGroup(this, 'Options', {
      engine,
      description: 'MariaDB audit plugin for the exported audit log',
      configurations: [{ name: 'MARIADB_AUDIT_PLUGIN', settings: { SERVER_AUDIT_EVENTS: 'CONNECT,QUERY_DDL,QUERY_DCL' } }],
    });

    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      description: `MySQL ${this.node.path}`,
      removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      vpc: props.vpc,
      subnetGroup: this.subnetGroup,
      securityGroups: [this.securityGroup],
      instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM),
      port: this.port,
      multiAz,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.allocatedStorageGiB ?? 20,
      maxAllocatedStorage: props.maxAllocatedStorageGiB ?? 100,
      storageEncrypted: true,
      storageEncryptionKey: this.encryptionKey,
      credentials: rds.Credentials.fromUsername(props.masterUsername ?? 'dbadmin', { encryptionKey: this.encryptionKey }),
      manageMasterUserPassword: true,
      databaseName: props.databaseName ?? 'app',
      parameterGroup: this.parameterGroup,
      optionGroup: this.optionGroup,
      iamAuthentication: true,
      backupRetention: props.backupRetention ?? Duration.days(7),
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: destroy,
      deletionProtection,
      removalPolicy,
      autoMinorVersionUpgrade: true,
      instanceIdentifier: this.instanceIdentifier,
      cloudwatchLogsExports: [...LOG_TYPES],
      monitoringInterval: Duration.seconds(60),
      monitoringRole: this.monitoringRole,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: this.encryptionKey,
      publiclyAccessible: false,
    });
    this.logGroups.forEach((g) => this.instance.node.addDependency(g));
    this.endpoint = this.instance.instanceEndpoint;
    this.secretArn = (this.instance.node.defaultChild as rds.CfnDBInstance).attrMasterUserSecretSecretArn;

    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON, ec2.InstanceSize.MEDIUM);
    this.alarms = this.createAlarms(props, instanceType.toString());

    if (!multiAz) {
      acknowledge(this,
        { id: 'AwsSolutions-RDS3', reason: 'Single-AZ is an explicit cost choice for a non-production environment (config mysql.multiAz=false); prod config validation requires Multi-AZ.' },
        { id: controlTower('rds_instance_multi_az_support_check'), reason: 'Single-AZ is an explicit cost choice for a non-production environment; prod config validation requires Multi-AZ.' });
    }
    if (!deletionProtection) {
      acknowledge(this,
        { id: 'AwsSolutions-RDS10', reason: 'Deletion protection is off only where the environment is meant to be destroyed with its stack (dev); prod config requires retention and it is on there.' },
        { id: controlTower('rds_instance_deletion_protection_enabled_check'), reason: 'Off only in environments destroyed with their stack (dev); on in prod.' });
    }
  }

  /**
   * No ReplicaLag alarm: a Multi-AZ DB instance's standby is synchronous and publishes no
   * ReplicaLag (read replicas and Multi-AZ DB clusters do), and this construct creates neither.
   * No BurstBalance alarm: storage is gp3, which has no burst bucket.
   */
  private createAlarms(props: MysqlDatabaseProps, instanceType: string): cloudwatch.Alarm[] {
    const t = props.alarmThresholds ?? {};
    const memoryGiB = mysqlClassMemoryGiB(instanceType);
    const memoryBytes = memoryGiB === undefined ? undefined : Size.gibibytes(memoryGiB).toBytes();
    const freeStorageGiB = t.freeStorageSpaceGiB ?? (props.allocatedStorageGiB ?? 20) * 0.1;
    const freeableMiB = t.freeableMemoryMiB ?? (memoryGiB === undefined ? 256 : memoryGiB * 1024 * 0.1);
    const connections = t.connections ?? (memoryBytes === undefined ? 500 : Math.floor(0.8 * Math.floor((memoryBytes * 0.9) / 12582880)));
    const m = this.instance;
    const fiveMin = Duration.minutes(5);
    return createAlarms(this, { enabled: props.alarms ?? true, topic: props.alarmTopic }, [
      {
        id: 'CpuUtilization', metric: over(m.metricCPUUtilization(), 'Average', fiveMin), threshold: t.cpuUtilizationPercent ?? 80, comparison: GT, evaluationPeriods: 3,
        description: `MySQL ${this.instanceIdentifier}: CPU above ${t.cpuUtilizationPercent ?? 80} % for 15 min. Check Performance Insights top SQL and the slow query log.`,
      },
      {
        id: 'FreeStorageSpace', metric: over(m.metricFreeStorageSpace(), 'Minimum', fiveMin), threshold: Size.gibibytes(freeStorageGiB).toBytes(), comparison: LT,
        description: `MySQL ${this.instanceIdentifier}: less than ${freeStorageGiB} GiB free. Check storage autoscaling reached maxAllocatedStorage, and binary log / general log growth.`,
      },
      {
        id: 'FreeableMemory', metric: over(m.metricFreeableMemory(), 'Minimum', fiveMin), threshold: Size.mebibytes(Math.round(freeableMiB)).toBytes(), comparison: LT, evaluationPeriods: 3,
        description: `MySQL ${this.instanceIdentifier}: less than ${Math.round(freeableMiB)} MiB freeable memory for 15 min. Check connection count and buffer pool size; consider a larger class.`,
      },
      {
        id: 'DatabaseConnections', metric: over(m.metricDatabaseConnections(), 'Maximum', fiveMin), threshold: connections, comparison: GT, evaluationPeriods: 3,
        description: `MySQL ${this.instanceIdentifier}: more than ${connections} connections for 15 min (near max_connections). Check the services' pool sizes and replica counts.`,
      },
      ...(instanceType.startsWith('t') ? [{
        id: 'CpuCreditBalance', metric: over(m.metric('CPUCreditBalance'), 'Minimum', fiveMin), threshold: t.cpuCreditBalance ?? 20, comparison: LT, evaluationPeriods: 3,
        description: `MySQL ${this.instanceIdentifier}: CPU credits below ${t.cpuCreditBalance ?? 20} (burstable class): sustained load above baseline. Check top SQL; consider a non-burstable class.`,
      }] : []),
    ]);
  }

  /** Lets a security group connect (for callers added after construction). */
  allowFrom(peer: ec2.ISecurityGroup): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(this.port), `MySQL from ${peer.node.path}`);
  }
}
