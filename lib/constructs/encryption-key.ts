import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface EncryptionKeyProps {
  /** What the key encrypts (shown in the console). */
  readonly description: string;
  /**
   * Removal policy of the key; keep it as long as anything encrypted with it may exist.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Let CloudWatch Logs in this account and region use the key for log groups.
   * @default false
   */
  readonly cloudWatchLogs?: boolean;
}

/**
 * A customer managed KMS key with the platform's baseline: yearly rotation, and grants only for
 * AWS services acting on AWS resources (Control Tower CT.KMS.PR.3), optionally usable by CloudWatch Logs.
 */
export class EncryptionKey extends kms.Key {
  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id, {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsServices',
      effect: iam.Effect.DENY,
      actions: ['kms:CreateGrant'],
      principals: [new iam.AnyPrincipal()],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
    if (props.cloudWatchLogs) {
      const stack = Stack.of(this);
      this.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CloudWatchLogs',
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }));
    }
  }

  /**
   * A log group encrypted with this key (the key must have `cloudWatchLogs: true`); leave
   * `props.encryptionKey` out. Retention under a year is acknowledged by the caller where config chooses it.
   */
  logGroup(scope: Construct, id: string, props: logs.LogGroupProps): logs.LogGroup {
    // jsii (the Python build) takes no Omit<>: the key is refused here instead of in the type.
    if (props.encryptionKey !== undefined && props.encryptionKey !== this) {
      throw new Error(`EncryptionKey.logGroup: props.encryptionKey must be left out (the log group ${id} is encrypted with this key)`);
    }
    return new logs.LogGroup(scope, id, { ...props, encryptionKey: this });
  }
}
