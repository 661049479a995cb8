import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EncryptedBackupVault, VaultLockMode } from '../constructs/encrypted-backup-vault';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** A vault that another stack names by region and vault name (no cross-region reference needed). */
export interface BackupCopyTarget {
  readonly region: string;
  readonly vaultName: string;
}

/**
 * The second copy of the platform's backups: one encrypted vault in `backup.copyRegion`, locked
 * like the primary one. The data stack's plan copies every recovery point here.
 */
export class BackupCopyStack extends PlatformStack {
  readonly vault: EncryptedBackupVault;
  /** Region and name of the vault, for the data stack's copy action. */
  readonly target: BackupCopyTarget;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    const backup = props.config.backup;
    if (!backup?.copyRegion) throw new Error('BackupCopyStack: config.backup.copyRegion is not set');
    super(scope, id, { ...props, env: { account: props.config.account, region: backup.copyRegion } });
    const { appName, envName, retainData } = this.config;
    const retentionDays = backup.copyRetentionDays ?? backup.retentionDays;
    const vaultName = `${appName}-${envName}-copy`;
    this.vault = new EncryptedBackupVault(this, 'Vault', {
      backupVaultName: vaultName,
      lockMode: backup.vaultLock as VaultLockMode,
      minRetention: backup.vaultLock === 'none' ? undefined : Duration.days(retentionDays),
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.target = { region: backup.copyRegion, vaultName };
  }
}
