import { Duration, Fn, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeShortRetention, controlTower } from '../compliance';
import { AlarmSpec, createAlarms, GT, over } from './alarms';
import { EncryptionKey } from './encryption-key';

/** ElastiCache engines with cluster mode (same protocol and clients). */
export enum RedisEngine {
  /** Redis OSS. */
  REDIS = 'redis',
  /** Valkey, the open-source fork of Redis. */
  VALKEY = 'valkey',
}

/** When the RedisCluster alarms fire; every alarm is per node (CacheClusterId). */
export interface RedisAlarmThresholds {
  /**
   * EngineCPUUtilization (average, the Redis thread) above this for 3 periods of 5 minutes.
   * @default 90
   */
  readonly engineCpuUtilizationPercent?: number;
  /**
   * DatabaseMemoryUsagePercentage (maximum) above this for 3 periods of 5 minutes.
   * @default 80
   */
  readonly memoryUsagePercent?: number;
  /**
   * Evictions (sum over 5 minutes) above this: the platform keeps sessions and rate-limit
   * counters in Redis, so any eviction loses state.
   * @default 0
   */
  readonly evictions?: number;
  /**
   * CurrConnections (maximum) above this for 3 periods of 5 minutes.
   * @default 5000
   */
  readonly connections?: number;
  /**
   * ReplicationLag (maximum, seconds; replicas only) above this for 3 periods of 1 minute.
   * @default 5
   */
  readonly replicationLagSeconds?: number;
}

export interface RedisClusterProps {
  /** VPC to place the nodes in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the cache subnet group.
   * @default the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security groups whose members may connect (the only ingress the cluster gets). */
  readonly allowFrom: ec2.ISecurityGroup[];
  /**
   * Redis or Valkey (same protocol and clients).
   * @default RedisEngine.REDIS
   */
  readonly engine?: RedisEngine;
  /**
   * Engine version.
   * @default '7.1' for redis, '8.0' for valkey
   */
  readonly engineVersion?: string;
  /**
   * Node type.
   * @default 'cache.t4g.small'
   */
  readonly nodeType?: string;
  /**
   * Shards (node groups); keys are spread over them by hash slot.
   * @default 1
   */
  readonly shards?: number;
  /**
   * Replicas per shard; at least 1 for automatic failover.
   * @default 1
   */
  readonly replicasPerShard?: number;
  /**
   * Days of daily snapshots kept (0 disables).
   * @default 7
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Port. Not the engine default, which scanners try first (AwsSolutions-AEC5).
   * @default 16379
   */
  readonly port?: number;
  /**
   * What a stack delete does: SNAPSHOT writes a final snapshot, RETAIN keeps the cluster.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * KMS key for data at rest and the auth token secret.
   * @default a new customer managed key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of the slow log and engine log.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * RBAC user name the services connect as (its password is generated into Secrets Manager).
   * @default 'app'
   */
  readonly userName?: string;
  /**
   * CloudWatch alarms per node (engine CPU, memory, evictions, connections, replication lag) and
   * an EventBridge rule forwarding ElastiCache events (failover, node replacement) to `alarmTopic`.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Topic every alarm notifies (alarm and OK) and the ElastiCache events go to. ElastiCache's own
   * notification topic setting cannot be used: it refuses KMS-encrypted topics.
   * @default - alarms without actions and no event rule
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * When the alarms fire.
   * @default - the defaults of each RedisAlarmThresholds field
   */
  readonly alarmThresholds?: RedisAlarmThresholds;
}

/**
 * ElastiCache Redis (or Valkey) with cluster mode enabled: shards × replicas from props,
 * automatic failover, Multi-AZ, TLS in transit, KMS at rest, RBAC (the default user switched off,
 * one application user whose password lives in Secrets Manager; the template holds only a dynamic
 * reference), daily snapshots, slow and engine logs encrypted in CloudWatch.
 * Clients connect to `configurationEndpoint` with a cluster-aware client (ioredis Cluster) using
 * TLS, `userName` and the `password` field of `userSecret`.
 */
export class RedisCluster extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnetGroup: elasticache.CfnSubnetGroup;
  /** `{ "username": ..., "password": ... }` of the application user. */
  readonly userSecret: secretsmanager.Secret;
  readonly user: elasticache.CfnUser;
  /** The mandatory `default` user, switched off so only named users can connect. */
  readonly disabledDefaultUser: elasticache.CfnUser;
  readonly userGroup: elasticache.CfnUserGroup;
  readonly encryptionKey: kms.IKey;
  readonly logsKey: EncryptionKey;
  readonly slowLog: logs.LogGroup;
  readonly engineLog: logs.LogGroup;
  readonly port: number;
  readonly userName: string;
  /** Cluster-mode configuration endpoint host. */
  readonly configurationEndpoint: string;
  /** Configuration endpoint port. */
  readonly configurationEndpointPort: string;
  /** Node ids (CacheClusterId) in cluster mode: `<replication group>-<shard 0001..>-<node 001..>`. */
  readonly nodeIds: string[];
  /** The CloudWatch alarms (empty with `alarms: false`). */
  readonly alarms: cloudwatch.Alarm[];
  /** EventBridge rule sending this service's events to `alarmTopic` (undefined without a topic or with `alarms: false`). */
  readonly eventsRule?: events.Rule;

  constructor(scope: Construct, id: string, props: RedisClusterProps) {
    super(scope, id);
    const shards = props.shards ?? 1;
    const replicas = props.replicasPerShard ?? 1;
    if (!Number.isInteger(shards) || shards < 1 || shards > 500) throw new Error(`RedisCluster: shards must be an integer from 1 to 500 (got ${shards})`);
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new Error(`RedisCluster: replicasPerShard must be an integer from 1 to 5; automatic failover needs a replica (got ${replicas})`);
    if (props.allowFrom.length === 0) throw new Error('RedisCluster: allowFrom needs at least one security group (the cluster accepts no other ingress)');
    const engine = props.engine ?? RedisEngine.REDIS;
    const engineVersion = props.engineVersion ?? (engine === RedisEngine.REDIS ? '7.1' : '8.0');
    const major = engineVersion.split('.')[0];
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const keep = removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.port = props.port ?? 16379;
    this.userName = props.userName ?? 'app';

    this.encryptionKey = props.encryptionKey ?? new EncryptionKey(this, 'Key', { description: `Encrypts Redis ${this.node.path}`, removalPolicy: keep });
    this.logsKey = new EncryptionKey(this, 'LogsKey', { description: `Encrypts the logs of Redis ${this.node.path}`, cloudWatchLogs: true, removalPolicy: keep });

    // RBAC ids are account-and-region unique, lower case, at most 40 characters.
    const idBase = Names.uniqueResourceName(this, { maxLength: 30, separator: '-' }).toLowerCase();
    this.userSecret = new secretsmanager.Secret(this, 'UserSecret', {
      description: `Password of the ${this.userName} user of Redis ${this.node.path}`,
      encryptionKey: this.encryptionKey,
      // ElastiCache passwords: 16-128 printable characters without @, ", / or spaces.
      generateSecretString: { secretStringTemplate: JSON.stringify({ username: this.userName }), generateStringKey: 'password', passwordLength: 64, excludePunctuation: true },
      removalPolicy: keep,
    });
    acknowledge(this.userSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'ElastiCache RBAC passwords rotate by adding a second password to the user (ModifyUser keeps two), rolling clients, then removing the old one; a single-step rotation Lambda would cut off live clients. Rotation is an operator runbook step (README).',
    });
    const rbacEngine = engine === RedisEngine.VALKEY ? 'valkey' : 'redis';
    this.disabledDefaultUser = new elasticache.CfnUser(this, 'DefaultUser', {
      userId: `${idBase}-default`,
      userName: 'default',
      engine: rbacEngine,
      accessString: 'off -@all',
      noPasswordRequired: false,
      passwords: [this.userSecret.secretValueFromJson('password').unsafeUnwrap()],
    });
    this.user = new elasticache.CfnUser(this, 'User', {
      userId: `${idBase}-${this.userName}`.slice(0, 40),
      userName: this.userName,
      engine: rbacEngine,
      // Everything but administration and commands that can stall or wipe a shared cluster.
      accessString: 'on ~* &* +@all -@dangerous',
      passwords: [this.userSecret.secretValueFromJson('password').unsafeUnwrap()],
    });
    this.userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      userGroupId: `${idBase}-users`,
      engine: rbacEngine,
      userIds: [this.disabledDefaultUser.userId, this.user.userId],
    });
    this.userGroup.node.addDependency(this.disabledDefaultUser, this.user);

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Redis ${this.node.path}: ingress from the workloads only`,
      allowAllOutbound: false,
    });
    for (const sg of props.allowFrom) this.allowFrom(sg);

    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
    this.subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Redis ${this.node.path}`,
      subnetIds: subnets.subnetIds,
    });

    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const logGroup = (name: string) => {
      const group = this.logsKey.logGroup(this, name, { retention, removalPolicy: keep });
      acknowledgeShortRetention(group, retention);
      return group;
    };
    this.slowLog = logGroup('SlowLog');
    this.engineLog = logGroup('EngineLog');
    const delivery = (logType: string, group: logs.LogGroup): elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty => ({
      logType,
      logFormat: 'json',
      destinationType: 'cloudwatch-logs',
      destinationDetails: { cloudWatchLogsDetails: { logGroup: group.logGroupName } },
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `Redis cluster ${this.node.path}`,
      engine,
      engineVersion,
      cacheParameterGroupName: `default.${engine}${major}.cluster.on`,
      clusterMode: 'enabled',
      cacheNodeType: props.nodeType ?? 'cache.t4g.small',
      numNodeGroups: shards,
      replicasPerNodeGroup: replicas,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: this.port,
      cacheSubnetGroupName: this.subnetGroup.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      kmsKeyId: this.encryptionKey.keyArn,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      userGroupIds: [this.userGroup.userGroupId],
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 7,
      autoMinorVersionUpgrade: true,
      logDeliveryConfigurations: [delivery('slow-log', this.slowLog), delivery('engine-log', this.engineLog)],
    });
    this.replicationGroup.node.addDependency(this.userGroup);
    acknowledge(this.replicationGroup, {
      id: 'AwsSolutions-AEC6',
      reason: 'Authentication is RBAC (user group with the default user switched off and a named user with a Secrets Manager password), which supersedes the single shared AUTH token this rule looks for.',
    });
    this.replicationGroup.applyRemovalPolicy(removalPolicy);
    this.configurationEndpoint = this.replicationGroup.attrConfigurationEndPointAddress;
    this.configurationEndpointPort = this.replicationGroup.attrConfigurationEndPointPort;

    this.nodeIds = [];
    for (let shard = 1; shard <= shards; shard++) {
      for (let node = 1; node <= replicas + 1; node++) {
        this.nodeIds.push(Fn.join('-', [this.replicationGroup.ref, String(shard).padStart(4, '0'), String(node).padStart(3, '0')]));
      }
    }
    const alarmsOn = props.alarms ?? true;
    this.alarms = createAlarms(this, { enabled: alarmsOn, topic: props.alarmTopic }, this.nodeIds.flatMap((nodeId, i) => this.nodeAlarms(nodeId, i, props.alarmThresholds ?? {})));
    if (alarmsOn && props.alarmTopic) {
      // ElastiCache publishes failover and node events to EventBridge; its notification topic
      // setting would need an unencrypted topic.
      this.eventsRule = new events.Rule(this, 'Events', {
        description: `ElastiCache events (failover, node replacement, update failures) for Redis ${this.node.path}`,
        eventPattern: { source: ['aws.elasticache'], detailType: ['Cache Updated', 'Cache Update Failed', 'Cache Limit Approaching', 'Snapshot Creation Failed'] },
        targets: [new eventsTargets.SnsTopic(props.alarmTopic)],
      });
    }

    if ((props.snapshotRetentionDays ?? 7) === 0) {
      acknowledge(this, { id: controlTower('elasticache_redis_cluster_automatic_backup_check'), reason: 'Snapshots are switched off explicitly by config (redis.snapshotRetentionDays=0); prod validation requires them.' });
    }
  }

  private nodeAlarms(nodeId: string, index: number, t: RedisAlarmThresholds): AlarmSpec[] {
    const metric = (name: string, statistic: string, period = Duration.minutes(5)) => over(new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache', metricName: name, dimensionsMap: { CacheClusterId: nodeId },
    }), statistic, period);
    const node = `Redis ${this.node.path} node #${index + 1}`;
    const cpu = t.engineCpuUtilizationPercent ?? 90;
    const memory = t.memoryUsagePercent ?? 80;
    const evictions = t.evictions ?? 0;
    const connections = t.connections ?? 5000;
    const lag = t.replicationLagSeconds ?? 5;
    return [
      { id: `Node${index + 1}EngineCpu`, metric: metric('EngineCPUUtilization', 'Average'), threshold: cpu, comparison: GT, evaluationPeriods: 3,
        description: `${node}: Redis engine thread above ${cpu} % CPU for 15 min. Check SLOWLOG (slow log group), hot keys, and O(N) commands; add shards if load is spread.` },
      { id: `Node${index + 1}Memory`, metric: metric('DatabaseMemoryUsagePercentage', 'Maximum'), threshold: memory, comparison: GT, evaluationPeriods: 3,
        description: `${node}: memory above ${memory} % of maxmemory for 15 min. Check key growth and TTLs (sessions, carts); scale the node type or shards before evictions start.` },
      { id: `Node${index + 1}Evictions`, metric: metric('Evictions', 'Sum'), threshold: evictions, comparison: GT,
        description: `${node}: more than ${evictions} keys evicted in 5 min: sessions or rate-limit state lost. Check memory usage and keys without TTL.` },
      { id: `Node${index + 1}Connections`, metric: metric('CurrConnections', 'Maximum'), threshold: connections, comparison: GT, evaluationPeriods: 3,
        description: `${node}: more than ${connections} client connections for 15 min. Check for connection leaks (pods opening clients per request) and pod counts.` },
      { id: `Node${index + 1}ReplicationLag`, metric: metric('ReplicationLag', 'Maximum', Duration.minutes(1)), threshold: lag, comparison: GT, evaluationPeriods: 3,
        description: `${node}: replica more than ${lag} s behind its primary for 3 min (replicas only publish it). Check write volume and the primary's network and CPU.` },
    ];
  }

  /** Lets a security group connect. */
  allowFrom(peer: ec2.ISecurityGroup): void {
    this.securityGroup.addIngressRule(peer, ec2.Port.tcp(this.port), `Redis from ${peer.node.path}`);
  }
}
