import { ApiObject, Chart, ChartProps, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { OTEL_COLLECTOR } from '../env';
import { containerResources, PART_OF, selectorOf, topologySpread, workloadLabels } from '../microservice';
import { allow, pods, tcp } from '../network-policy';
import { CONTAINER_SECURITY, POD_SECURITY, restrictPod } from '../restricted';
import { WorkloadSettings } from '../settings';

/** Where the collector reads its configuration (a ConfigMap volume). */
const CONFIG_DIR = '/conf';

/**
 * The collector's pipeline: OTLP (gRPC and HTTP) from the platform's pods, a memory limiter that
 * drops rather than letting the pod be OOM-killed, batches, and AWS X-Ray through the pod's own
 * identity. `request_id` becomes an X-Ray annotation, so a request is found by its x-request-id.
 */
export function collectorConfig(s: WorkloadSettings): Record<string, unknown> {
  return {
    extensions: { health_check: { endpoint: `0.0.0.0:${OTEL_COLLECTOR.healthPort}` } },
    receivers: {
      otlp: {
        protocols: {
          grpc: { endpoint: `0.0.0.0:${OTEL_COLLECTOR.grpcPort}` },
          http: { endpoint: `0.0.0.0:${OTEL_COLLECTOR.httpPort}` },
        },
      },
    },
    processors: {
      memory_limiter: { check_interval: '1s', limit_percentage: 80, spike_limit_percentage: 20 },
      batch: { timeout: '1s', send_batch_size: 512 },
    },
    exporters: {
      awsxray: { region: s.region, indexed_attributes: ['request_id', 'http.route'] },
    },
    service: {
      extensions: ['health_check'],
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['awsxray'] } },
    },
  };
}

/**
 * The OpenTelemetry collector (AWS Distro for OpenTelemetry): a Deployment behind a ClusterIP
 * Service that every platform pod may reach on the OTLP ports, forwarding to X-Ray with the Pod
 * Identity role of its ServiceAccount (X-Ray write only). Restricted like every platform pod; an
 * HPA on CPU and a PDB like the services. The image is the bare collector (no shell, no `sleep`):
 * no preStop wait, its own 30 s to flush on SIGTERM.
 * Built only when tracing is on (`tracing.enabled`).
 */
export class TelemetryChart extends Chart {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly config: kplus.ConfigMap;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    const name = OTEL_COLLECTOR.name;
    const labels = workloadLabels(name, 'telemetry');
    this.config = new kplus.ConfigMap(this, 'Config', {
      metadata: { name, labels },
      data: { 'config.yaml': JSON.stringify(collectorConfig(s), null, 2) },
    });
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name, labels }, automountToken: false });
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, labels },
      podMetadata: { labels },
      select: false,
      spread: false,
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY,
      terminationGracePeriod: Duration.seconds(30),
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      containers: [{
        name: 'collector',
        image: s.tracing.collectorImage,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        args: [`--config=${CONFIG_DIR}/config.yaml`],
        ports: [
          { name: 'otlp-grpc', number: OTEL_COLLECTOR.grpcPort },
          { name: 'otlp-http', number: OTEL_COLLECTOR.httpPort },
          { name: 'health', number: OTEL_COLLECTOR.healthPort },
        ],
        envVariables: { AWS_REGION: kplus.EnvValue.fromValue(s.region) },
        resources: containerResources(s.tracing.collector.resources),
        securityContext: CONTAINER_SECURITY,
        readiness: kplus.Probe.fromHttpGet('/', { port: OTEL_COLLECTOR.healthPort, periodSeconds: Duration.seconds(5) }),
        liveness: kplus.Probe.fromHttpGet('/', { port: OTEL_COLLECTOR.healthPort, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
      }],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selectorOf(name) }));
    const container = this.deployment.containers[0];
    container.mount(CONFIG_DIR, kplus.Volume.fromConfigMap(this, 'ConfigVolume', this.config, { name: 'config' }), { readOnly: true });
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(64) }));
    restrictPod(this.deployment, '/spec/template/spec', 1);
    ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', topologySpread(name)));

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, labels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [
        { name: 'otlp-grpc', port: OTEL_COLLECTOR.grpcPort, targetPort: OTEL_COLLECTOR.grpcPort },
        { name: 'otlp-http', port: OTEL_COLLECTOR.httpPort, targetPort: OTEL_COLLECTOR.httpPort },
      ],
    });
    this.service.selectLabel('app.kubernetes.io/name', name);
    const scale = s.tracing.collector.scale;
    new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name, labels },
      target: this.deployment,
      minReplicas: scale.minReplicas,
      maxReplicas: scale.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(scale.targetCpuPercent))],
    });
    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels },
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorOf(name) } },
    });
    const otlp = [tcp(OTEL_COLLECTOR.grpcPort), tcp(OTEL_COLLECTOR.httpPort)];
    // In from the platform's pods on the OTLP ports (out to X-Ray: the namespace's HTTPS rule).
    allow(this, name, selectorOf(name), { ingress: [{ peers: [{ podSelector: { matchLabels: PART_OF } }], ports: otlp }] });
    allow(this, 'otlp-exporters', PART_OF, { egress: [{ peers: [pods(name)], ports: otlp }] });
  }
}
