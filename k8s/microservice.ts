import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CONTAINER_SECURITY, POD_SECURITY, restrictPod } from './restricted';
import { DeploymentSettings, KIT_PATHS, ResourceSettings, SCRAPE_ANNOTATIONS, ShutdownSettings } from './settings';

/** Labels every platform pod carries; NetworkPolicies select on them. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'platform' } as const;

/** The selector labels of one workload (stable: never derived from a construct path). */
export function workloadLabels(name: string, component: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': component, ...PART_OF };
}

export const selectorOf = (name: string) => ({ 'app.kubernetes.io/name': name });

export function containerResources(r: ResourceSettings): kplus.ContainerResources {
  return {
    cpu: { request: kplus.Cpu.millis(r.cpuRequestMillis), limit: kplus.Cpu.millis(r.cpuLimitMillis) },
    memory: { request: Size.mebibytes(r.memoryRequestMiB), limit: Size.mebibytes(r.memoryLimitMiB) },
  };
}

/**
 * From the downward API: the pod name (a job's stream consumer name, POD_NAME) and the pod IP (the
 * address a service registers in etcd, POD_IP).
 */
export const DOWNWARD_ENV = {
  POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
  POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP),
};

/** A kit service's instance id in the registry is its pod name (INSTANCE_ID). */
const SERVICE_DOWNWARD_ENV = {
  INSTANCE_ID: DOWNWARD_ENV.POD_NAME,
  POD_IP: DOWNWARD_ENV.POD_IP,
};

export const plainEnv = (env: Record<string, string>): Record<string, kplus.EnvValue> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, kplus.EnvValue.fromValue(v)]));

/** Zone and node spread: one zone down leaves the others serving. */
export function topologySpread(name: string) {
  return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selectorOf(name) },
  }));
}

/** Pod annotations that ask the managed scraper for the kit's metrics on `port`. */
export function scrapeAnnotations(port: number): Record<string, string> {
  return { [SCRAPE_ANNOTATIONS.scrape]: 'true', [SCRAPE_ANNOTATIONS.port]: String(port), [SCRAPE_ANNOTATIONS.path]: KIT_PATHS.metrics };
}

export interface MicroserviceProps {
  /** Object names, ServiceAccount, the `app.kubernetes.io/name` label. */
  readonly name: string;
  /** `app.kubernetes.io/component`, e.g. `service`, `gateway`, `job`. */
  readonly component: string;
  readonly image: string;
  /** Container environment (plain values only: secrets travel by ARN). SERVICE must be in it. */
  readonly env: Record<string, string>;
  readonly settings: DeploymentSettings;
  readonly shutdown: ShutdownSettings;
  /**
   * HTTP port the kit serves on: probes on `/readyz` and `/healthz`, a ClusterIP Service.
   * @default none (a worker without HTTP: no probes, no Service)
   */
  readonly port?: number;
  /**
   * A kit service that registers in etcd: gets INSTANCE_ID (pod name) and POD_IP; a worker gets
   * POD_NAME and POD_IP; `false` gets neither (a plain client such as the load generator).
   * @default true with a port, else the worker's
   */
  readonly downwardEnv?: boolean;
  /**
   * Port the managed Prometheus scraper reads the kit's `/metrics` on (the kit's METRICS_PORT): a
   * container port `metrics` and the `prometheus.io/scrape`, `/port` and `/path` annotations its
   * scrape configuration keeps. Needs a `port` (kplus declares the first container port).
   * @default not scraped
   */
  readonly metricsPort?: number;
}

/**
 * One platform workload: ServiceAccount (no token mounted), Deployment (restricted pod, read-only
 * root with a /tmp emptyDir, probes on the kit's paths, zone + node spread, preStop wait and a grace
 * period longer than the kit's shutdown), Service, HPA (autoscaling/v2) and PDB (policy/v1).
 */
export class Microservice extends Construct {
  readonly serviceAccount: kplus.ServiceAccount;
  readonly deployment: kplus.Deployment;
  readonly service?: kplus.Service;
  readonly autoscaler: kplus.HorizontalPodAutoscaler;
  readonly disruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, props: MicroserviceProps) {
    super(scope, id);
    const { name, settings, shutdown, port } = props;
    this.labels = workloadLabels(name, props.component);
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name, labels: this.labels },
      automountToken: false,
    });
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name, labels: this.labels },
      podMetadata: { labels: this.labels, annotations: props.metricsPort === undefined ? undefined : scrapeAnnotations(props.metricsPort) },
      select: false,
      spread: false,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: Duration.seconds(shutdown.terminationGracePeriodSeconds),
      securityContext: POD_SECURITY,
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      containers: [{
        name: 'app',
        image: props.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        portNumber: port,
        envVariables: { ...plainEnv(props.env), ...(props.downwardEnv === false ? {} : port === undefined ? DOWNWARD_ENV : SERVICE_DOWNWARD_ENV) },
        resources: containerResources(settings.resources),
        securityContext: CONTAINER_SECURITY,
        ...(port === undefined ? {} : {
          readiness: kplus.Probe.fromHttpGet(KIT_PATHS.ready, { port, periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
          liveness: kplus.Probe.fromHttpGet(KIT_PATHS.live, { port, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
          startup: kplus.Probe.fromHttpGet(KIT_PATHS.live, { port, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
        }),
      }],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selectorOf(name) }));
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: Size.mebibytes(64) });
    this.deployment.containers[0].mount('/tmp', tmp);
    const spec = '/spec/template/spec';
    restrictPod(this.deployment, spec, 1);
    const obj = ApiObject.of(this.deployment);
    // The ALB and kube-proxy stop sending before SIGTERM starts the kit's shutdown. An exec of the
    // image's sleep: the native `sleep` action (1.29+) is unknown to cdk8s-plus-27's 1.27 types,
    // which silently drop it from a patch.
    obj.addJsonPatch(JsonPatch.add(`${spec}/containers/0/lifecycle`, { preStop: { exec: { command: ['sleep', String(shutdown.preStopSeconds)] } } }));
    obj.addJsonPatch(JsonPatch.add(`${spec}/topologySpreadConstraints`, topologySpread(name)));
    if (props.metricsPort !== undefined) {
      obj.addJsonPatch(JsonPatch.add(`${spec}/containers/0/ports/-`, { containerPort: props.metricsPort, name: 'metrics', protocol: 'TCP' }));
    }

    if (port !== undefined) {
      this.service = new kplus.Service(this, 'Service', {
        metadata: { name, labels: this.labels },
        type: kplus.ServiceType.CLUSTER_IP,
        ports: [{ name: 'http', port, targetPort: port }],
      });
      this.service.selectLabel('app.kubernetes.io/name', name);
    }
    this.autoscaler = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name, labels: this.labels },
      target: this.deployment,
      minReplicas: settings.scale.minReplicas,
      maxReplicas: settings.scale.maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(settings.scale.targetCpuPercent))],
    });
    this.disruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name, labels: this.labels },
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: selectorOf(name) } },
    });
  }
}
