import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, controlTower } from '../compliance';
import { EncryptionKey } from './encryption-key';

export interface AssetBucketsProps {
  /**
   * What a stack delete does to the buckets and their key. RETAIN keeps data; DESTROY deletes
   * empty buckets (CloudFormation cannot delete a bucket that still has objects).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * KMS key for the static-assets and uploads buckets.
   * @default a new customer managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long non-current object versions are kept in the static-assets and uploads buckets.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * How long access logs (S3, ALB, CloudFront) are kept.
   * @default Duration.days(90)
   */
  readonly accessLogRetention?: Duration;
  /**
   * Browser origins allowed to PUT/GET the uploads bucket directly (presigned URLs).
   * @default [] - no CORS rule, presigned URLs work only from non-browser clients
   */
  readonly uploadCorsOrigins?: string[];
}

/**
 * The platform's buckets: `staticAssets` (CloudFront origin, read through Origin Access Control),
 * `uploads` (user images through presigned PUT), and `accessLogs` (S3 server access logs, ALB and
 * CloudFront logs). All block public access, enforce TLS, are versioned and have lifecycle rules.
 */
export class AssetBuckets extends Construct {
  readonly encryptionKey: kms.IKey;
  readonly accessLogs: s3.Bucket;
  readonly staticAssets: s3.Bucket;
  readonly uploads: s3.Bucket;

  constructor(scope: Construct, id: string, props: AssetBucketsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const noncurrent = props.noncurrentVersionExpiration ?? Duration.days(30);
    const stack = Stack.of(this);

    this.encryptionKey = props.encryptionKey ?? new EncryptionKey(this, 'Key', {
      description: `Encrypts the static-assets and uploads buckets of ${stack.stackName}`,
      removalPolicy,
    });

    const secure = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      removalPolicy,
    };
    // EventBridge notifications set on the L1: the L2 flag deploys a notification Lambda for it.
    const withEvents = (bucket: s3.Bucket): s3.Bucket => {
      (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      return bucket;
    };

    this.accessLogs = withEvents(new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // S3 server access logs and ALB access logs can only be delivered to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      // CloudFront standard logs are written with an ACL grant to the bucket owner.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{
        expiration: props.accessLogRetention ?? Duration.days(90),
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    }));
    acknowledge(this.accessLogs,
      { id: 'AwsSolutions-S1', reason: 'This is the access-log bucket itself; logging it into itself would loop and another log bucket would only move the finding.' },
      { id: controlTower('s3_bucket_logging_enabled_check'), reason: 'This is the access-log bucket itself; logging it into itself would loop.' },
      { id: controlTower('s3_bucket_default_encryption_kms_check'), reason: 'S3 server access logs and ALB access logs are only delivered to SSE-S3 encrypted buckets; the bucket is encrypted with SSE-S3.' },
      { id: controlTower('s3_bucket_acl_prohibited_check'), reason: 'CloudFront standard logging writes objects with ACLs and requires ACLs enabled on its log bucket; public access stays blocked at the bucket level.' },
      { id: controlTower('s3_bucket_object_lock_enabled_check'), reason: 'Log files expire through lifecycle; Object Lock retention would block that expiry and AWS log delivery does not set retention. Versioning keeps overwritten logs.' },
    );

    const dataBucket = (name: string, extra: Partial<s3.BucketProps>): s3.Bucket => {
      const bucket = withEvents(new s3.Bucket(this, name, {
        ...secure,
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.encryptionKey,
        bucketKeyEnabled: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `s3/${name}/`,
        lifecycleRules: [{ noncurrentVersionExpiration: noncurrent, abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        ...extra,
      }));
      acknowledge(bucket, {
        id: controlTower('s3_bucket_object_lock_enabled_check'),
        reason: 'Objects here are replaced and deleted by deploys and users by design; versioning with a non-current retention window gives recovery without Object Lock, which would forbid those deletes.',
      });
      return bucket;
    };

    this.staticAssets = dataBucket('StaticAssets', {});
    this.uploads = dataBucket('Uploads', {
      cors: (props.uploadCorsOrigins ?? []).length === 0 ? undefined : [{
        allowedOrigins: props.uploadCorsOrigins!,
        allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
        allowedHeaders: ['content-type', 'content-md5', 'x-amz-*'],
        exposedHeaders: ['ETag'],
        maxAge: 3000,
      }],
    });

    // Any CloudFront distribution of this account may read static assets through Origin Access
    // Control. Granted here, not by the distribution, so a Cdn in another stack needs no cycle.
    const fromOwnDistributions = {
      StringEquals: { 'AWS:SourceAccount': stack.account },
      ArnLike: { 'AWS:SourceArn': `arn:${stack.partition}:cloudfront::${stack.account}:distribution/*` },
    };
    const cloudFront = new iam.ServicePrincipal('cloudfront.amazonaws.com');
    this.staticAssets.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      principals: [cloudFront],
      resources: [this.staticAssets.arnForObjects('*')],
      conditions: fromOwnDistributions,
    }));
    this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      principals: [cloudFront],
      resources: ['*'],
      conditions: fromOwnDistributions,
    }));
  }
}
