import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';

/**
 * `TargetGroupBinding` of the AWS Load Balancer Controller (elbv2.k8s.aws/v1beta1), written by hand:
 * no package ships its types. Its schema for validation is k8s/crds/ (from the controller's CRD).
 */
export interface TargetGroupBindingSpec {
  /** The Service whose endpoints are registered. */
  readonly serviceRef: { readonly name: string; readonly port: number | string };
  /** The target group the edge stack owns. */
  readonly targetGroupARN: string;
  /** `ip`: pod IPs are the targets (required for a target group made with targetType IP). */
  readonly targetType: 'ip' | 'instance';
}

export interface TargetGroupBindingProps {
  readonly metadata?: ApiObjectMetadata;
  readonly spec: TargetGroupBindingSpec;
}

export class TargetGroupBinding extends ApiObject {
  static readonly GVK = { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding' } as const;

  constructor(scope: Construct, id: string, props: TargetGroupBindingProps) {
    super(scope, id, { ...TargetGroupBinding.GVK, metadata: props.metadata, spec: props.spec });
  }
}
