import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataBackup, DataBackupProps, EncryptedBackupVault, VaultLockMode } from '../../lib/constructs';
import { rulePackFindings, testApp } from '../support/synth';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/** DataBackup over an imported database and bucket (the data constructs have their own tests). */
function build(props: Partial<DataBackupProps> = {}) {
  const app = testApp();
  const stack = new Stack(app, 'Test', { env: ENV });
  const db = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'orders', instanceEndpointAddress: 'orders.example.internal', port: 13306, securityGroups: [],
  });
  const bucket = s3.Bucket.fromBucketName(stack, 'Uploads', 'uploads-bucket');
  const data = new DataBackup(stack, 'Backup', { databaseInstances: [db], buckets: [bucket], retention: Duration.days(35), ...props });
  return { app, stack, data, template: () => Template.fromStack(stack) };
}

const managedPolicies = (t: Template) => JSON.stringify(Object.values(t.findResources('AWS::IAM::Role'))[0].Properties.ManagedPolicyArns);

describe('DataBackup', () => {
  test('daily at 03:00 UTC, kept for the retention, into an encrypted vault that denies deleting recovery points', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [{ RuleName: 'Daily', ScheduleExpression: 'cron(0 3 * * ? *)', Lifecycle: { DeleteAfterDays: 35 }, TargetBackupVault: { 'Fn::GetAtt': [t.getResourceId('AWS::Backup::BackupVault'), 'BackupVaultName'] } }] },
    });
    const vault = Object.values(t.findResources('AWS::Backup::BackupVault'))[0];
    expect(vault.Properties.EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [t.getResourceId('AWS::KMS::Key'), 'Arn'] });
    expect(vault.Properties.LockConfiguration).toBeUndefined();
    expect(vault.DeletionPolicy).toBe('Retain');
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: { Resources: [`arn:aws:rds:eu-west-1:${ENV.account}:db:orders`, 'arn:aws:s3:::uploads-bucket'] },
    });
    expect(managedPolicies(t)).toContain('AWSBackupServiceRolePolicyForS3Backup');
  });

  test('the S3 policies only when buckets are backed up', () => {
    expect(managedPolicies(build({ buckets: [] }).template())).not.toContain('S3');
  });

  test.each([[VaultLockMode.GOVERNANCE, { MinRetentionDays: 35 }], [VaultLockMode.COMPLIANCE, { MinRetentionDays: 35, ChangeableForDays: 3 }]])(
    'Vault Lock %s enforces the retention', (lockMode, lock) => {
      build({ lockMode }).template().hasResourceProperties('AWS::Backup::BackupVault', { LockConfiguration: lock });
    });

  test('copies to a second vault with its own retention', () => {
    const app = build({
      copyTo: { vault: backup.BackupVault.fromBackupVaultArn(new Stack(testApp(), 'Other'), 'Copy', 'arn:aws:backup:eu-central-1:123456789012:backup-vault:copy'), retention: Duration.days(60) },
    });
    app.template().hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: { BackupPlanRule: [{ CopyActions: [{ DestinationBackupVaultArn: 'arn:aws:backup:eu-central-1:123456789012:backup-vault:copy', Lifecycle: { DeleteAfterDays: 60 } }] }] },
    });
  });

  test('clear errors for bad props', () => {
    expect(() => build({ databaseInstances: [], buckets: [] })).toThrow(/DataBackup: give at least one of databaseInstances or buckets/);
    expect(() => build({ retention: Duration.hours(36) })).toThrow(/DataBackup: retention must be a whole number of days/);
    expect(() => new EncryptedBackupVault(new Stack(testApp(), 'S'), 'V', { lockMode: VaultLockMode.COMPLIANCE }))
      .toThrow(/lockMode compliance needs minRetention/);
  });

  test('no unacknowledged rule-pack findings', () => {
    expect(rulePackFindings(build({ lockMode: VaultLockMode.COMPLIANCE }).app)).toEqual([]);
  });
});
