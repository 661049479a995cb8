import { ArnFormat, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AssetBuckets } from '../constructs/asset-buckets';
import { DataBackup } from '../constructs/data-backup';
import { VaultLockMode } from '../constructs/encrypted-backup-vault';
import { MysqlDatabase } from '../constructs/mysql-database';
import { RedisCluster, RedisEngine } from '../constructs/redis-cluster';
import { SearchDomain } from '../constructs/search-domain';
import { BackupCopyTarget } from './backup-copy-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface DataStackProps extends PlatformStackProps {
  readonly vpc: ec2.IVpc;
  /** The only group the data stores accept connections from (NetworkStack.workloadsSecurityGroup). */
  readonly workloadsSecurityGroup: ec2.ISecurityGroup;
  /**
   * Vault of BackupCopyStack that every recovery point is copied to (with config.backup.copyRegion).
   * @default - no copy
   */
  readonly backupCopy?: BackupCopyTarget;
  /**
   * Topic every alarm of this stack notifies (AlertsStack).
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The platform's data: MySQL, Redis cluster, OpenSearch and the buckets. Every store accepts
 * connections only from `workloadsSecurityGroup`, which the cluster's nodes carry.
 */
export class DataStack extends PlatformStack {
  /** The one security group whose members may reach the data stores (owned by the network stack). */
  readonly workloadsSecurityGroup: ec2.ISecurityGroup;
  readonly mysql: MysqlDatabase;
  readonly redis: RedisCluster;
  readonly search: SearchDomain;
  readonly buckets: AssetBuckets;
  /** AWS Backup plan for MySQL and the uploads bucket (undefined without config.backup). */
  readonly backup?: DataBackup;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { vpc } = props;
    const c = this.config;
    const retain = c.retainData;

    this.workloadsSecurityGroup = props.workloadsSecurityGroup;
    const allowFrom = [this.workloadsSecurityGroup];

    this.mysql = new MysqlDatabase(this, 'Mysql', {
      vpc,
      allowFrom,
      instanceType: new ec2.InstanceType(c.mysql.instanceType),
      multiAz: c.mysql.multiAz,
      allocatedStorageGiB: c.mysql.allocatedStorageGiB,
      maxAllocatedStorageGiB: c.mysql.maxAllocatedStorageGiB,
      backupRetention: Duration.days(c.mysql.backupRetentionDays),
      databaseName: c.mysql.databaseName,
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      deletionProtection: retain,
      alarmTopic: props.alarmTopic,
    });

    this.redis = new RedisCluster(this, 'Redis', {
      vpc,
      allowFrom,
      engine: c.redis.engine === 'valkey' ? RedisEngine.VALKEY : RedisEngine.REDIS,
      nodeType: c.redis.nodeType,
      shards: c.redis.shards,
      replicasPerShard: c.redis.replicasPerShard,
      snapshotRetentionDays: c.redis.snapshotRetentionDays,
      removalPolicy: retain ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      alarmTopic: props.alarmTopic,
    });

    this.search = new SearchDomain(this, 'Search', {
      vpc,
      allowFrom,
      dataNodeType: c.search.dataNodeType,
      dataNodes: c.search.dataNodes,
      zoneCount: c.search.zoneCount,
      masterNodeType: c.search.masterNodeType,
      masterNodes: c.search.masterNodes,
      volumeSizeGiB: c.search.volumeSizeGiB,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      alarmTopic: props.alarmTopic,
    });

    this.buckets = new AssetBuckets(this, 'Buckets', {
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      noncurrentVersionExpiration: Duration.days(c.buckets.noncurrentVersionExpirationDays),
      accessLogRetention: Duration.days(c.buckets.accessLogRetentionDays),
      uploadCorsOrigins: c.buckets.uploadCorsOrigins,
    });

    if (c.backup) {
      if (c.backup.copyRegion && !props.backupCopy) throw new Error('DataStack: config.backup.copyRegion is set but no backupCopy vault was given (BackupCopyStack.target)');
      // The copy vault is named, not referenced: no cross-region export for one ARN.
      const copyVault = props.backupCopy && backup.BackupVault.fromBackupVaultArn(this, 'BackupCopyVault', this.formatArn({
        service: 'backup', region: props.backupCopy.region, resource: 'backup-vault', resourceName: props.backupCopy.vaultName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }));
      this.backup = new DataBackup(this, 'Backup', {
        databaseInstances: [this.mysql.instance],
        buckets: [this.buckets.uploads],
        retention: Duration.days(c.backup.retentionDays),
        lockMode: c.backup.vaultLock as VaultLockMode,
        copyTo: copyVault ? { vault: copyVault, retention: Duration.days(c.backup.copyRetentionDays ?? c.backup.retentionDays) } : undefined,
        removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    }
  }
}
