import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../compliance';
import { EncryptedBackupVault, VaultLockMode } from './encrypted-backup-vault';

/** Where every recovery point is copied to, e.g. a vault in another region. */
export interface BackupCopyOptions {
  /** Destination vault (another region or account; its owner lets this account copy in). */
  readonly vault: backup.IBackupVault;
  /** How long copies are kept. */
  readonly retention: Duration;
}

export interface DataBackupProps {
  /**
   * RDS instances to back up (snapshots; the instance's own automated backups stay as they are).
   * @default []
   */
  readonly databaseInstances?: rds.IDatabaseInstance[];
  /**
   * S3 buckets to back up (continuous versioned data; the buckets must be versioned and may use KMS).
   * @default []
   */
  readonly buckets?: s3.IBucket[];
  /** How long each recovery point is kept. */
  readonly retention: Duration;
  /**
   * When the daily backup starts.
   * @default - every day at 03:00 UTC
   */
  readonly schedule?: events.Schedule;
  /**
   * Vault Lock of the vault (minimum retention: `retention`).
   * @default VaultLockMode.NONE
   */
  readonly lockMode?: VaultLockMode;
  /**
   * A second copy of every recovery point.
   * @default - no copy
   */
  readonly copyTo?: BackupCopyOptions;
  /**
   * What a stack delete does to the vault and its key (the plan itself holds no data).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const managed = (name: string) => iam.ManagedPolicy.fromAwsManagedPolicyName(name);

/**
 * An AWS Backup plan for a platform's data: a daily backup of the given RDS instances and S3
 * buckets into an EncryptedBackupVault (customer managed key, deletes denied, optional Vault Lock),
 * kept for `retention`, optionally copied to a second vault, through a role of its own.
 */
export class DataBackup extends Construct {
  /** The vault the plan backs up into. */
  readonly vault: EncryptedBackupVault;
  /** The backup plan. */
  readonly plan: backup.BackupPlan;
  /** Its one rule: schedule, retention, copy action. */
  readonly rule: backup.BackupPlanRule;
  /** The resources the plan covers. */
  readonly selection: backup.BackupSelection;
  /** Role AWS Backup assumes to back up and restore the resources. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DataBackupProps) {
    super(scope, id);
    const databases = props.databaseInstances ?? [];
    const buckets = props.buckets ?? [];
    if (databases.length + buckets.length === 0) throw new Error('DataBackup: give at least one of databaseInstances or buckets');
    const retentionDays = props.retention.toDays({ integral: false });
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`DataBackup: retention must be a whole number of days from 1 (got ${props.retention.toHumanString()})`);

    this.vault = new EncryptedBackupVault(this, 'Vault', {
      lockMode: props.lockMode,
      minRetention: props.lockMode && props.lockMode !== VaultLockMode.NONE ? props.retention : undefined,
      removalPolicy: props.removalPolicy,
    });
    this.rule = new backup.BackupPlanRule({
      ruleName: 'Daily',
      scheduleExpression: props.schedule ?? events.Schedule.cron({ hour: '3', minute: '0' }),
      deleteAfter: props.retention,
      copyActions: props.copyTo ? [{ destinationBackupVault: props.copyTo.vault, deleteAfter: props.copyTo.retention }] : undefined,
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: Names.uniqueResourceName(this, { maxLength: 50, separator: '-' }),
      backupVault: this.vault.vault,
      backupPlanRules: [this.rule],
    });

    const awsManaged = [
      'service-role/AWSBackupServiceRolePolicyForBackup',
      'service-role/AWSBackupServiceRolePolicyForRestores',
      ...(buckets.length > 0 ? ['AWSBackupServiceRolePolicyForS3Backup', 'AWSBackupServiceRolePolicyForS3Restore'] : []),
    ];
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup for ${this.node.path}`,
      managedPolicies: awsManaged.map(managed),
    });
    acknowledge(this.role, ...awsManaged.map((name) => ({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`,
      reason: 'The AWS-managed policy AWS Backup documents for its service role; AWS keeps it in step with the snapshot, copy and restore '
        + 'APIs of each service. Only AWS Backup can assume this role.',
    })));
    this.selection = this.plan.addSelection('Selection', {
      role: this.role,
      disableDefaultBackupPolicy: true,
      resources: [
        ...databases.map((db) => backup.BackupResource.fromRdsDatabaseInstance(db)),
        ...buckets.map((b) => backup.BackupResource.fromArn(b.bucketArn)),
      ],
    });
  }
}
