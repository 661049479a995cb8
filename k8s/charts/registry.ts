import { ApiObject, Chart, ChartProps, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { containerResources, DOWNWARD_ENV, PART_OF, selectorOf, workloadLabels } from '../microservice';
import { allow, pods, tcp } from '../network-policy';
import { CONTAINER_SECURITY, POD_SECURITY, restrictPod } from '../restricted';
import { WorkloadSettings } from '../settings';

export const ETCD_PORTS = { client: 2379, peer: 2380, metrics: 2381 } as const;

/**
 * The service registry: etcd as a StatefulSet of `registry.members` (headless Service for stable
 * peer names, encrypted gp3 volumes, one member per zone, PDB maxUnavailable 1, probes on etcd's
 * /readyz and /livez, periodic compaction and a backend quota). Only platform pods reach its
 * client port; only members reach the peer port.
 */
export class RegistryChart extends Chart {
  readonly statefulSet: kplus.StatefulSet;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    const name = 'etcd';
    const labels = workloadLabels(name, 'registry');
    const r = s.registry;
    const headless = new kplus.Service(this, 'Peers', {
      metadata: { name, labels },
      clusterIP: 'None',
      ports: [{ name: 'client', port: ETCD_PORTS.client }, { name: 'peer', port: ETCD_PORTS.peer }],
    });
    headless.selectLabel('app.kubernetes.io/name', name);
    // Peers must resolve each other before any member is ready (bootstrap needs a quorum).
    ApiObject.of(headless).addJsonPatch(JsonPatch.add('/spec/publishNotReadyAddresses', true));

    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name, labels }, automountToken: false });
    const peer = (i: number) => `${name}-${i}=http://${name}-${i}.${name}.${s.namespace}.svc:${ETCD_PORTS.peer}`;
    this.statefulSet = new kplus.StatefulSet(this, 'Members', {
      metadata: { name, labels },
      podMetadata: { labels },
      select: false,
      spread: false,
      service: headless,
      replicas: r.members,
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(30),
      securityContext: POD_SECURITY,
      containers: [{
        name: 'etcd',
        image: r.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ['/usr/local/bin/etcd'],
        args: [
          '--name=$(POD_NAME)',
          '--data-dir=/var/lib/etcd',
          `--listen-client-urls=http://0.0.0.0:${ETCD_PORTS.client}`,
          `--advertise-client-urls=http://$(POD_NAME).${name}.${s.namespace}.svc:${ETCD_PORTS.client}`,
          `--listen-peer-urls=http://0.0.0.0:${ETCD_PORTS.peer}`,
          `--initial-advertise-peer-urls=http://$(POD_NAME).${name}.${s.namespace}.svc:${ETCD_PORTS.peer}`,
          `--listen-metrics-urls=http://0.0.0.0:${ETCD_PORTS.metrics}`,
          `--initial-cluster=${Array.from({ length: r.members }, (_, i) => peer(i)).join(',')}`,
          '--initial-cluster-state=new',
          `--initial-cluster-token=${s.namespace}-registry`,
          '--auto-compaction-mode=periodic',
          `--auto-compaction-retention=${r.compactionRetention}`,
          `--quota-backend-bytes=${r.quotaBackendBytes}`,
        ],
        ports: [{ name: 'client', number: ETCD_PORTS.client }, { name: 'peer', number: ETCD_PORTS.peer }, { name: 'metrics', number: ETCD_PORTS.metrics }],
        envVariables: { POD_NAME: DOWNWARD_ENV.POD_NAME },
        resources: containerResources(r.resources),
        securityContext: CONTAINER_SECURITY,
        readiness: kplus.Probe.fromHttpGet('/readyz', { port: ETCD_PORTS.metrics, periodSeconds: Duration.seconds(5) }),
        liveness: kplus.Probe.fromHttpGet('/livez', { port: ETCD_PORTS.metrics, periodSeconds: Duration.seconds(10), failureThreshold: 6 }),
        startup: kplus.Probe.fromHttpGet('/livez', { port: ETCD_PORTS.metrics, periodSeconds: Duration.seconds(5), failureThreshold: 60 }),
      }],
    });
    this.statefulSet.select(kplus.LabelSelector.of({ labels: selectorOf(name) }));
    const spec = '/spec/template/spec';
    restrictPod(this.statefulSet, spec, 1);
    const obj = ApiObject.of(this.statefulSet);
    // cdk8s-plus-27 has no volumeClaimTemplates: one encrypted gp3 volume per member. Patches pass
    // through the 1.27 typed serializers, so a quantity must be a k8s.Quantity (a plain '5Gi' comes out empty).
    obj.addJsonPatch(JsonPatch.add('/spec/volumeClaimTemplates', [{
      metadata: { name: 'data', labels },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: s.storageClassName, resources: { requests: { storage: kplus.k8s.Quantity.fromString(`${r.storageGiB}Gi`) } } },
    }]));
    obj.addJsonPatch(JsonPatch.add(`${spec}/containers/0/volumeMounts`, [{ name: 'data', mountPath: '/var/lib/etcd' }]));
    // One member per zone: a zone outage costs one vote, never the quorum.
    obj.addJsonPatch(JsonPatch.add(`${spec}/topologySpreadConstraints`, [{
      maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: selectorOf(name) },
    }]));
    obj.addJsonPatch(JsonPatch.add(`${spec}/affinity`, {
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorOf(name) } }] },
    }));

    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels },
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorOf(name) } },
    });
    allow(this, 'etcd', selectorOf(name), {
      ingress: [
        { peers: [{ podSelector: { matchLabels: PART_OF } }], ports: [tcp(ETCD_PORTS.client)] },
        { peers: [pods(name)], ports: [tcp(ETCD_PORTS.peer)] },
      ],
      egress: [{ peers: [pods(name)], ports: [tcp(ETCD_PORTS.peer)] }],
    });
    allow(this, 'registry-clients', PART_OF, { egress: [{ peers: [pods(name)], ports: [tcp(ETCD_PORTS.client)] }] });
  }
}
