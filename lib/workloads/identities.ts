import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { Uses, USES } from '../../k8s/env';
import { acknowledge } from '../compliance';

/** A key, by ARN (a kms.IKey or the platform's EncryptionKey). */
export interface KeyRef {
  readonly keyArn: string;
}

/** A secret a workload may read, and the key that encrypts it. */
export interface ReadableSecret {
  readonly arn: string;
  readonly key: KeyRef;
}

export interface WorkloadIdentitiesProps {
  readonly cluster: eks.ICluster;
  readonly namespace: string;
  /** Workload (its ServiceAccount name) -> the service it runs (k8s/env.ts USES). */
  readonly workloads: Record<string, string>;
  /** The secrets of the stores a workload uses, by store. */
  readonly storeSecrets: { readonly mysql: ReadableSecret; readonly redis: ReadableSecret; readonly opensearch: ReadableSecret };
  /** Extra secrets per service (e.g. the user service's signing key). */
  readonly serviceSecrets?: Record<string, ReadableSecret[]>;
  /** Secrets a service also writes (PutSecretValue), e.g. the signing key it fills on first start. */
  readonly writableSecrets?: Record<string, ReadableSecret[]>;
  /** The uploads bucket, its key and the one prefix workloads that use it may touch. */
  readonly uploads: { readonly bucketArn: string; readonly key: KeyRef; readonly prefix: string; readonly acknowledgedArn: string };
}

/**
 * One IAM role per workload, bound by EKS Pod Identity to its ServiceAccount: it may read only the
 * secrets of the stores it uses (and decrypt them only through Secrets Manager), touch the
 * uploads bucket only under one prefix when it uses uploads, and write to X-Ray when it is the
 * trace collector.
 */
export class WorkloadIdentities extends Construct {
  readonly roles: Record<string, iam.Role> = {};
  readonly associations: eks.CfnPodIdentityAssociation[] = [];

  constructor(scope: Construct, id: string, props: WorkloadIdentitiesProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const viaSecretsManager = { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } };
    for (const [workload, service] of Object.entries(props.workloads)) {
      const uses: Uses = USES[service];
      const role = new iam.Role(this, `Role-${workload}`, {
        assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
        description: `Pod Identity of ${props.namespace}/${workload}`,
      });
      const s = props.storeSecrets;
      const readable = [
        ...(uses.mysql ? [s.mysql] : []),
        ...(uses.redis ? [s.redis] : []),
        ...(uses.opensearch ? [s.opensearch] : []),
        ...(props.serviceSecrets?.[service] ?? []),
      ];
      if (readable.length) {
        role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: readable.map((r) => r.arn) }));
        role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: unique(readable.map((r) => r.key.keyArn)), conditions: viaSecretsManager }));
      }
      const writable = props.writableSecrets?.[service] ?? [];
      if (writable.length) {
        role.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: writable.map((r) => r.arn) }));
        role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: unique(writable.map((r) => r.key.keyArn)), conditions: viaSecretsManager }));
      }
      if (uses.uploads) {
        const u = props.uploads;
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [`${u.bucketArn}/${u.prefix}/*`] }));
        role.addToPolicy(new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [u.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
        }));
        acknowledge(role, { id: `AwsSolutions-IAM5[Resource::${u.acknowledgedArn}/${u.prefix}/*]`, reason: `Reads and writes only under the ${u.prefix}/ prefix of the uploads bucket (object keys are random per upload); that prefix is the role's only wildcard.` });
      }
      if (uses.xray) {
        role.addToPolicy(new iam.PolicyStatement({ actions: XRAY_WRITE, resources: ['*'] }));
        acknowledge(role, { id: 'AwsSolutions-IAM5[Resource::*]', reason: `X-Ray's ${XRAY_WRITE.join(', ')} take no resource-level permissions: the write-only set (AWSXrayWriteOnlyAccess's actions), nothing that reads traces.` });
      }
      this.roles[workload] = role;
      this.associations.push(new eks.CfnPodIdentityAssociation(this, `PodIdentity-${workload}`, {
        clusterName: props.cluster.clusterName,
        namespace: props.namespace,
        serviceAccount: workload,
        roleArn: role.roleArn,
      }));
    }
  }
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** What the OpenTelemetry collector's awsxray exporter calls: segments in, sampling rules read. */
export const XRAY_WRITE = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'];
