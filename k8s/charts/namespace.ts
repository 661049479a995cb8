import { Chart, ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PART_OF } from '../microservice';
import { allow, cidr, tcp, udp } from '../network-policy';
import { WorkloadSettings } from '../settings';

/** Pod Security Admission `restricted`, enforced, warned and audited at the latest level. */
export const PSA_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
};

/** The EKS Pod Identity agent's link-local address (credentials for every pod that has an association). */
export const POD_IDENTITY_AGENT = '169.254.170.23/32';

/**
 * The platform's namespace (restricted pods, ALB pod readiness gates), the encrypted gp3
 * StorageClass of the registry's volumes, and the network baseline: deny everything in and out,
 * then allow DNS, the Pod Identity agent and HTTPS to AWS APIs for the platform's pods.
 */
export class NamespaceChart extends Chart {
  readonly storageClass: kplus.k8s.KubeStorageClass;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    new kplus.k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: s.namespace,
        labels: { ...PSA_LABELS, 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled', ...PART_OF },
      },
    });
    this.storageClass = new kplus.k8s.KubeStorageClass(this, 'Gp3', {
      metadata: { name: s.storageClassName },
      provisioner: 'ebs.csi.aws.com',
      parameters: { type: 'gp3', encrypted: 'true' },
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    });
    new kplus.k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    allow(this, 'dns-and-aws', PART_OF, {
      egress: [
        { peers: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [udp(53), tcp(53)] },
        { peers: [cidr(POD_IDENTITY_AGENT)], ports: [tcp(80)] },
        // AWS APIs (Secrets Manager, S3, STS) and the OpenSearch domain: HTTPS, addresses not fixed.
        { peers: [cidr('0.0.0.0/0')], ports: [tcp(443)] },
      ],
    });
  }
}
