import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { selectorOf } from './microservice';

type Peer = kplus.k8s.NetworkPolicyPeer;
type Port = kplus.k8s.NetworkPolicyPort;

export const tcp = (port: number): Port => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(port) });
export const udp = (port: number): Port => ({ protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(port) });
export const pods = (name: string): Peer => ({ podSelector: { matchLabels: selectorOf(name) } });
export const cidr = (block: string): Peer => ({ ipBlock: { cidr: block } });

export interface Rule {
  readonly peers: Peer[];
  readonly ports: Port[];
}

/**
 * An allow rule set for the pods matching `podLabels` (the namespace's default deny drops the rest).
 * Plain networking.k8s.io/v1 objects: every rule is reviewable in the YAML as written here.
 */
export function allow(scope: Construct, name: string, podLabels: Record<string, string>, rules: { ingress?: Rule[]; egress?: Rule[] }): kplus.k8s.KubeNetworkPolicy {
  const policyTypes = [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])];
  return new kplus.k8s.KubeNetworkPolicy(scope, `Allow-${name}`, {
    metadata: { name: `allow-${name}` },
    spec: {
      podSelector: { matchLabels: podLabels },
      policyTypes,
      ingress: rules.ingress?.map((r) => ({ from: r.peers, ports: r.ports })),
      egress: rules.egress?.map((r) => ({ to: r.peers, ports: r.ports })),
    },
  });
}
