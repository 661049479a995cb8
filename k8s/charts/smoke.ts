import { ApiObject, Chart, ChartProps, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { serviceEnv } from '../env';
import { containerResources, Microservice, plainEnv, selectorOf, workloadLabels } from '../microservice';
import { allow, pods, tcp } from '../network-policy';
import { CONTAINER_SECURITY, POD_SECURITY, restrictPod } from '../restricted';
import { smokeJobName, WorkloadSettings } from '../settings';

/**
 * The release check: a smoke Job named after the release (a fresh one per deploy; the workloads
 * stack's gate waits for its success), and the same journey in a loop as the load generator
 * (where enabled). Both reach only the gateway.
 */
export class SmokeChart extends Chart {
  readonly job: kplus.Job;
  readonly jobName: string;
  readonly loadgen?: Microservice;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    this.jobName = smokeJobName(s.release);
    const labels = workloadLabels('smoke', 'release-check');
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name: 'smoke', labels }, automountToken: false });
    this.job = new kplus.Job(this, 'Job', {
      metadata: { name: this.jobName, labels },
      podMetadata: { labels },
      select: false,
      backoffLimit: 3,
      activeDeadline: Duration.seconds(s.smoke.deadlineSeconds),
      // Kept a day: the gate reads its status, and a person its logs.
      ttlAfterFinished: Duration.days(1),
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY,
      containers: [{
        name: 'smoke',
        image: s.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        envVariables: plainEnv(serviceEnv(s, 'smoke')),
        resources: containerResources(s.smoke.resources),
        securityContext: CONTAINER_SECURITY,
      }],
    });
    this.job.containers[0].mount('/tmp', kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp'));
    restrictPod(this.job, '/spec/template/spec', 1);
    const clients = [pods('smoke')];

    if (s.loadgen.enabled) {
      this.loadgen = new Microservice(this, 'loadgen', {
        name: 'loadgen', component: 'load-generator', image: s.image, env: serviceEnv(s, 'loadgen'),
        settings: { scale: { minReplicas: 1, maxReplicas: 1, targetCpuPercent: 80 }, resources: s.loadgen.resources },
        shutdown: s.shutdown, port: s.port, downwardEnv: false,
      });
      clients.push(pods('loadgen'));
    }
    for (const client of clients) {
      const name = client.podSelector!.matchLabels!['app.kubernetes.io/name'];
      allow(this, `${name}-to-gateway`, selectorOf(name), { egress: [{ peers: [pods('gateway')], ports: [tcp(s.port)] }] });
    }
    allow(this, 'gateway-from-checks', selectorOf('gateway'), { ingress: [{ peers: clients, ports: [tcp(s.port)] }] });
    // A Job's pod template is immutable: the name changes with every release instead.
    ApiObject.of(this.job).addJsonPatch(JsonPatch.add('/metadata/annotations', { 'platform/release': s.release }));
  }
}
