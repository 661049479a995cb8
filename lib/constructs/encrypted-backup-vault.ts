import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key';

/** AWS Backup Vault Lock modes. */
export enum VaultLockMode {
  /** No lock: recovery points follow their lifecycle; the vault access policy still denies deletes. */
  NONE = 'none',
  /** Governance mode: retention is enforced, but principals allowed to remove the lock can. */
  GOVERNANCE = 'governance',
  /** Compliance mode: after a 3-day grace period nobody can remove the lock or shorten retention. */
  COMPLIANCE = 'compliance',
}

export interface EncryptedBackupVaultProps {
  /**
   * Name of the vault (fixed names let another stack or region name it without a reference).
   * @default - a name CloudFormation generates
   */
  readonly backupVaultName?: string;
  /**
   * KMS key encrypting the recovery points the vault owns.
   * @default - a new EncryptionKey with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Vault Lock mode.
   * @default VaultLockMode.NONE
   */
  readonly lockMode?: VaultLockMode;
  /**
   * Shortest retention a backup or copy job into a locked vault may have (needed with a lock).
   * @default - none (required when lockMode is not NONE)
   */
  readonly minRetention?: Duration;
  /**
   * What a stack delete does to the vault and its key (a vault with recovery points cannot be
   * deleted anyway).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An AWS Backup vault on a customer managed key whose access policy denies deleting recovery points
 * or changing their lifecycle to everyone (AWS Backup's own lifecycle still expires them), with an
 * optional Vault Lock.
 */
export class EncryptedBackupVault extends Construct {
  /** The vault. */
  readonly vault: backup.BackupVault;
  /** Key of the recovery points the vault owns. */
  readonly encryptionKey: kms.IKey;
  /** Vault Lock mode in force. */
  readonly lockMode: VaultLockMode;

  constructor(scope: Construct, id: string, props: EncryptedBackupVaultProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.lockMode = props.lockMode ?? VaultLockMode.NONE;
    if (this.lockMode !== VaultLockMode.NONE && !props.minRetention) {
      throw new Error(`EncryptedBackupVault: lockMode ${this.lockMode} needs minRetention (the shortest retention the lock enforces)`);
    }
    this.encryptionKey = props.encryptionKey ?? new EncryptionKey(this, 'Key', { description: `Encrypts the backup vault ${this.node.path}`, removalPolicy });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.backupVaultName,
      encryptionKey: this.encryptionKey,
      blockRecoveryPointDeletion: true,
      removalPolicy,
      lockConfiguration: this.lockMode === VaultLockMode.NONE ? undefined : {
        minRetention: props.minRetention!,
        // Compliance mode: the lock can still be removed or changed during these 3 days, then never.
        changeableFor: this.lockMode === VaultLockMode.COMPLIANCE ? Duration.days(3) : undefined,
      },
    });
  }
}
