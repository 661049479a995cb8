import { ApiObject, Chart, ChartProps, Cron, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { serviceEnv, USES } from '../env';
import { containerResources, DOWNWARD_ENV, Microservice, plainEnv, selectorOf, workloadLabels } from '../microservice';
import { allow, cidr, pods, Rule, tcp } from '../network-policy';
import { CONTAINER_SECURITY, POD_SECURITY, restrictPod } from '../restricted';
import { DeploymentSettings, WorkloadSettings } from '../settings';
import { TargetGroupBinding } from '../target-group-binding';

/** Egress to the data stores `service` uses (they live in the VPC; ports from the data stack). */
function dataEgress(scope: Construct, name: string, service: string, s: WorkloadSettings): void {
  const uses = USES[service];
  const ports = [uses.mysql && s.dataPorts.mysql, uses.redis && s.dataPorts.redis].filter((p): p is number => typeof p === 'number');
  if (ports.length) allow(scope, `${name}-data`, selectorOf(name), { egress: [{ peers: [cidr(s.vpcCidr)], ports: ports.map(tcp) }] });
}

/** Services that call others through the registry: caller -> callee (services/src/*: ctx.client). */
export const CALLS: Record<string, string[]> = {
  gateway: ['user', 'catalog', 'order'],
  order: ['catalog'],
};

function httpService(scope: Construct, name: string, s: WorkloadSettings, settings: DeploymentSettings, component: string): Microservice {
  const svc = new Microservice(scope, name, { name, component, image: s.image, env: serviceEnv(s, name), settings, shutdown: s.shutdown, port: s.port, metricsPort: s.metricsPort });
  dataEgress(scope, name, name, s);
  const callers = Object.entries(CALLS).filter(([, callees]) => callees.includes(name)).map(([caller]) => pods(caller));
  const callees = (CALLS[name] ?? []).map(pods);
  const ingress: Rule[] = callers.length ? [{ peers: callers, ports: [tcp(s.port)] }] : [];
  if (name === 'gateway') ingress.push({ peers: [cidr(s.vpcCidr)], ports: [tcp(s.port)] }); // the internal ALB
  // The managed Prometheus scraper: its interfaces are in the VPC; this port serves /metrics only.
  if (s.metricsScrapedFromVpc) ingress.push({ peers: [cidr(s.vpcCidr)], ports: [tcp(s.metricsPort)] });
  allow(scope, name, selectorOf(name), {
    ingress,
    ...(callees.length ? { egress: [{ peers: callees, ports: [tcp(s.port)] }] } : {}),
  });
  return svc;
}

/**
 * The API gateway: a Microservice bound into the edge stack's sticky target group through a
 * TargetGroupBinding (pod IPs as targets, so the ALB's cookie sticks to a pod).
 */
export class GatewayChart extends Chart {
  readonly gateway: Microservice;
  readonly binding: TargetGroupBinding;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    this.gateway = httpService(this, 'gateway', s, s.gateway, 'gateway');
    this.binding = new TargetGroupBinding(this, 'TargetGroupBinding', {
      metadata: { name: 'gateway', labels: this.gateway.labels },
      spec: { serviceRef: { name: 'gateway', port: s.port }, targetGroupARN: s.gateway.targetGroupArn, targetType: 'ip' },
    });
  }
}

/** user, catalog and order: one Microservice each, reached by the gateway (and order -> catalog). */
export class ServicesChart extends Chart {
  readonly services: Record<'user' | 'catalog' | 'order', Microservice>;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    this.services = {
      user: httpService(this, 'user', s, s.services.user, 'service'),
      catalog: httpService(this, 'catalog', s, s.services.catalog, 'service'),
      order: httpService(this, 'order', s, s.services.order, 'service'),
    };
  }
}

/**
 * Scheduled work: order-timeout as an Indexed CronJob (shards by JOB_COMPLETION_INDEX, never two
 * runs at once), search-sync's nightly full rebuild as a CronJob and its follow mode as a Deployment.
 */
export class JobsChart extends Chart {
  readonly orderTimeout: kplus.CronJob;
  readonly searchSync: kplus.CronJob;
  readonly searchSyncFollow: Microservice;

  constructor(scope: Construct, id: string, s: WorkloadSettings, props: ChartProps = {}) {
    super(scope, id, { ...props, namespace: s.namespace });
    const ot = s.jobs.orderTimeout;
    this.orderTimeout = this.cronJob('order-timeout', s, {
      schedule: ot.schedule, activeDeadlineSeconds: ot.activeDeadlineSeconds, backoffLimit: ot.backoffLimit, resources: ot.resources,
      env: serviceEnv(s, 'order-timeout'),
    });
    // cdk8s-plus-27's Job has no completionMode / completions / parallelism.
    ApiObject.of(this.orderTimeout).addJsonPatch(
      JsonPatch.add('/spec/jobTemplate/spec/completionMode', 'Indexed'),
      JsonPatch.add('/spec/jobTemplate/spec/completions', ot.shards),
      JsonPatch.add('/spec/jobTemplate/spec/parallelism', ot.shards),
    );
    const ss = s.jobs.searchSync;
    this.searchSync = this.cronJob('search-sync', s, {
      schedule: ss.schedule, activeDeadlineSeconds: ss.activeDeadlineSeconds, backoffLimit: ss.backoffLimit, resources: ss.resources,
      env: { ...serviceEnv(s, 'search-sync'), SEARCH_SYNC_MODE: 'full' },
    });
    this.searchSyncFollow = new Microservice(this, 'search-sync-follow', {
      name: 'search-sync-follow', component: 'job', image: s.image,
      env: { ...serviceEnv(s, 'search-sync'), SEARCH_SYNC_MODE: 'follow' },
      settings: ss.follow, shutdown: s.shutdown,
    });
    dataEgress(this, 'search-sync-follow', 'search-sync', s);
  }

  private cronJob(name: string, s: WorkloadSettings, o: { schedule: string; activeDeadlineSeconds: number; backoffLimit: number; resources: WorkloadSettings['jobs']['orderTimeout']['resources']; env: Record<string, string> }): kplus.CronJob {
    const labels = workloadLabels(name, 'job');
    const serviceAccount = new kplus.ServiceAccount(this, `${name}-ServiceAccount`, { metadata: { name, labels }, automountToken: false });
    const job = new kplus.CronJob(this, name, {
      metadata: { name, labels },
      podMetadata: { labels },
      select: false,
      schedule: Cron.schedule(cronFields(o.schedule)),
      timeZone: 'Etc/UTC',
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.seconds(60),
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: o.backoffLimit,
      activeDeadline: Duration.seconds(o.activeDeadlineSeconds),
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY,
      containers: [{
        name: 'app',
        image: s.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        envVariables: { ...plainEnv(o.env), ...DOWNWARD_ENV },
        resources: containerResources(o.resources),
        securityContext: CONTAINER_SECURITY,
      }],
    });
    job.containers[0].mount('/tmp', kplus.Volume.fromEmptyDir(this, `${name}-Tmp`, 'tmp'));
    restrictPod(job, '/spec/jobTemplate/spec/template/spec', 1);
    // cdk8s-plus-27 refuses a TTL beside history limits; both are wanted: the limits keep the last
    // runs for a look, the TTL bounds how long a finished Job (and its pods' logs) stays after that.
    ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/jobTemplate/spec/ttlSecondsAfterFinished', 86_400));
    dataEgress(this, name, name, s);
    return job;
  }
}

/** `m h dom mon dow` into cdk8s' CronOptions. */
function cronFields(expr: string): { minute: string; hour: string; day: string; month: string; weekDay: string } {
  const f = expr.trim().split(/\s+/);
  if (f.length !== 5) throw new Error(`cron schedule "${expr}" must have 5 fields (minute hour day month weekday)`);
  const [minute, hour, day, month, weekDay] = f;
  return { minute, hour, day, month, weekDay };
}
