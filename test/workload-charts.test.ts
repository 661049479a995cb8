/**
 * The cdk8s charts of the platform's workloads, from concrete settings (the GitOps path; the CDK
 * path gives the same objects with tokens): schema validity, the restricted profile, probes, HPA /
 * PDB / selectors, the TargetGroupBinding, shutdown timing and the network policies.
 */
import { KIT_PATHS } from '../k8s/settings';
import { terminationGraceSeconds } from '../lib/config';
import { validateManifests } from './support/kubeconform';
import { ENVS } from './support/platform';
import { App } from 'cdk8s';
import { buildWorkloadCharts, chartEntries } from '../k8s/app';
import { buildCharts, podSpecOf, WORKLOAD_KINDS } from './support/workloads';

const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each(ENVS)('workload charts (%s)', (env) => {
  const built = buildCharts(env);
  const { docs, settings, config } = built;
  const workloads = docs.filter((d) => WORKLOAD_KINDS.includes(d.kind));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const named = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

  test('every manifest validates strictly against Kubernetes 1.35 (TargetGroupBinding against its CRD)', () => {
    const result = validateManifests(docs, `charts-${env}`);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(docs.length);
    expect(result.kinds).toEqual(expect.arrayContaining(['Namespace', 'StatefulSet', 'Deployment', 'CronJob', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'TargetGroupBinding', 'StorageClass']));
  }, 30 * 60_000);

  test('one chart per concern, in apply order, each well under the kubectl handler limits', () => {
    expect(built.charts.map(([name]) => name)).toEqual(['namespace', 'registry', 'telemetry', 'gateway', 'services', 'jobs', 'smoke']);
    for (const [, chartDocs] of built.charts) expect(JSON.stringify(chartDocs).length).toBeLessThan(100_000);
    expect(docs.every((d) => d.kind === 'Namespace' || d.kind === 'StorageClass' || d.metadata.namespace === settings.namespace)).toBe(true);
  });

  test('no null, no empty value and no unresolved token anywhere (cdk8s-plus-27 gaps patched)', () => {
    // A patch value the 1.27 serializers do not know comes out undefined, and JSON drops it.
    const empty: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (v === null || v === undefined) empty.push(at);
      else if (typeof v === 'object') for (const [k, c] of Object.entries(v as object)) walk(c, `${at}/${k}`);
    };
    docs.forEach((d, i) => walk(d, `${d.kind}/${d.metadata?.name ?? i}`));
    expect(empty).toEqual([]);
    const text = JSON.stringify(docs);
    expect(text).not.toMatch(/null/);
    expect(text).not.toMatch(/\$\{Token\[|Fn::/);
  });

  test('namespace: Pod Security restricted (enforce, warn, audit) and ALB readiness gates', () => {
    const labels = named('Namespace', settings.namespace).metadata.labels;
    for (const mode of ['enforce', 'warn', 'audit']) expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
    expect(labels['elbv2.k8s.aws/pod-readiness-gate-inject']).toBe('enabled');
  });

  test('every pod passes the restricted profile', () => {
    expect(workloads.length).toBe(config.workloads.loadgen.enabled ? 11 : 10);
    for (const w of workloads) {
      const pod = podSpecOf(w);
      const where = `${w.kind}/${w.metadata.name}`;
      expect({ where, pod: pod.securityContext }).toEqual({ where, pod: expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } }) });
      expect({ where, token: pod.automountServiceAccountToken }).toEqual({ where, token: false });
      for (const c of pod.containers) {
        expect({ where, sc: c.securityContext }).toEqual({
          where,
          sc: expect.objectContaining({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } }),
        });
        expect(c.imagePullPolicy).toBe('IfNotPresent');
        expect(c.resources.requests).toBeDefined();
        expect(c.resources.limits).toBeDefined();
      }
    }
  });

  test('HTTP workloads: probes on the port and paths the kit serves, a /tmp emptyDir, one image', () => {
    for (const name of ['gateway', 'user', 'catalog', 'order']) {
      const c = podSpecOf(named('Deployment', name)).containers[0];
      // the API port, and the kit's metrics-only port for the managed Prometheus scraper
      expect(c.ports).toEqual([{ containerPort: settings.port }, { containerPort: settings.metricsPort, name: 'metrics', protocol: 'TCP' }]);
      expect(c.env).toEqual(expect.arrayContaining([{ name: 'METRICS_PORT', value: String(settings.metricsPort) }]));
      expect(named('Deployment', name).spec.template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true', 'prometheus.io/port': String(settings.metricsPort), 'prometheus.io/path': KIT_PATHS.metrics,
      });
      expect(c.readinessProbe.httpGet).toEqual(expect.objectContaining({ path: KIT_PATHS.ready, port: settings.port }));
      expect(c.livenessProbe.httpGet).toEqual(expect.objectContaining({ path: KIT_PATHS.live, port: settings.port }));
      expect(c.volumeMounts).toEqual([expect.objectContaining({ mountPath: '/tmp' })]);
      expect(c.image).toBe(settings.image);
      expect(c.env).toEqual(expect.arrayContaining([{ name: 'SERVICE', value: name }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }]));
    }
  });

  test('every Deployment has an HPA and a PDB, and every selector matches its pods', () => {
    for (const d of byKind('Deployment')) {
      const name = d.metadata.name;
      const podLabels = d.spec.template.metadata.labels;
      expect(matches(d.spec.selector.matchLabels, podLabels)).toBe(true);
      expect(d.spec.replicas).toBeUndefined(); // the HPA owns it
      const hpa = byKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === name);
      expect(hpa?.spec.scaleTargetRef.kind).toBe('Deployment');
      expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
      const pdb = byKind('PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, podLabels));
      expect(pdb?.spec.maxUnavailable).toBe(1);
      expect(d.spec.template.spec.topologySpreadConstraints.map((t: any) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }
    for (const s of byKind('Service')) {
      const selected = workloads.filter((w) => w.kind !== 'CronJob' && matches(s.spec.selector, w.spec.template.metadata.labels));
      expect({ service: s.metadata.name, selects: selected.map((w) => w.metadata.name) }).toEqual({ service: s.metadata.name, selects: [s.metadata.name] });
    }
  });

  test('the TargetGroupBinding binds the gateway Service into the edge stack target group by pod IP', () => {
    const tgb = named('TargetGroupBinding', 'gateway');
    expect(tgb.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
    expect(tgb.spec).toEqual({ serviceRef: { name: 'gateway', port: settings.port }, targetGroupARN: settings.gateway.targetGroupArn, targetType: 'ip' });
    expect(named('Service', 'gateway').spec.ports[0]).toEqual(expect.objectContaining({ port: settings.port, targetPort: settings.port }));
  });

  test('shutdown: grace period > preStop + grace + drain, and covers the ALB deregistration delay', () => {
    const { preStopSeconds, graceMs, drainMs } = config.workloads.shutdown;
    // The services image's workloads (the collector has its own, see the telemetry test).
    for (const d of byKind('Deployment').filter((w) => w.spec.template.spec.containers[0].image === settings.image)) {
      const pod = d.spec.template.spec;
      expect(pod.terminationGracePeriodSeconds).toBe(terminationGraceSeconds(config.workloads.shutdown));
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + (graceMs + drainMs) / 1000);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(config.edge.deregistrationDelaySeconds);
      expect(pod.containers[0].lifecycle).toEqual({ preStop: { exec: { command: ['sleep', String(preStopSeconds)] } } });
    }
    const gatewayEnv = Object.fromEntries(podSpecOf(named('Deployment', 'gateway')).containers[0].env.map((e: any) => [e.name, e.value]));
    expect(gatewayEnv).toEqual(expect.objectContaining({ SHUTDOWN_GRACE_MS: String(graceMs), SHUTDOWN_DRAIN_MS: String(drainMs), TRUST_PROXY: '2' }));
  });

  test('registry: etcd members with stable peers, encrypted gp3 volumes, zone spread, PDB, health probes, quota', () => {
    const sts = named('StatefulSet', 'etcd');
    expect(sts.spec.replicas).toBe(config.workloads.registry.members);
    expect(sts.spec.serviceName).toBe('etcd');
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    expect(named('Service', 'etcd').spec).toEqual(expect.objectContaining({ clusterIP: 'None', publishNotReadyAddresses: true }));
    expect(sts.spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: settings.storageClassName, resources: { requests: { storage: `${config.workloads.registry.storageGiB}Gi` } } });
    expect(named('StorageClass', settings.storageClassName)).toEqual(expect.objectContaining({ provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3', encrypted: 'true' } }));
    const pod = sts.spec.template.spec;
    expect(pod.topologySpreadConstraints[0]).toEqual(expect.objectContaining({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' }));
    const c = pod.containers[0];
    expect(c.image).toMatch(/etcd:v3\.\d+\.\d+$/);
    expect(c.readinessProbe.httpGet).toEqual(expect.objectContaining({ path: '/readyz', port: 2381 }));
    expect(c.livenessProbe.httpGet).toEqual(expect.objectContaining({ path: '/livez', port: 2381 }));
    expect(c.args).toEqual(expect.arrayContaining(['--auto-compaction-mode=periodic', `--quota-backend-bytes=${config.workloads.registry.quotaMiB * 1024 * 1024}`]));
    const cluster = c.args.find((a: string) => a.startsWith('--initial-cluster='));
    expect(cluster.split(',')).toHaveLength(config.workloads.registry.members);
    expect(named('PodDisruptionBudget', 'etcd').spec.maxUnavailable).toBe(1);
  });

  test('jobs: order-timeout is an Indexed CronJob with shards from config; search-sync nightly + follow', () => {
    const ot = named('CronJob', 'order-timeout');
    const ots = config.workloads.jobs.orderTimeout;
    expect(ot.spec).toEqual(expect.objectContaining({ schedule: ots.schedule, concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 }));
    expect(ot.spec.jobTemplate.spec).toEqual(expect.objectContaining({
      completionMode: 'Indexed', completions: ots.shards, parallelism: ots.shards, backoffLimit: ots.backoffLimit, activeDeadlineSeconds: ots.activeDeadlineSeconds, ttlSecondsAfterFinished: 86400,
    }));
    const otEnv = podSpecOf(ot).containers[0].env;
    expect(otEnv).toEqual(expect.arrayContaining([{ name: 'SERVICE', value: 'order-timeout' }, { name: 'JOB_COMPLETIONS', value: String(ots.shards) }]));
    const ss = named('CronJob', 'search-sync');
    expect(ss.spec.schedule).toBe(config.workloads.jobs.searchSync.schedule);
    expect(podSpecOf(ss).containers[0].env).toEqual(expect.arrayContaining([{ name: 'SEARCH_SYNC_MODE', value: 'full' }]));
    expect(podSpecOf(named('Deployment', 'search-sync-follow')).containers[0].env).toEqual(expect.arrayContaining([{ name: 'SEARCH_SYNC_MODE', value: 'follow' }]));
  });

  describe('network policies', () => {
    const policies = byKind('NetworkPolicy');
    const policy = (name: string) => policies.find((p) => p.metadata.name === name);
    const port = (n: number) => expect.arrayContaining([expect.objectContaining({ protocol: 'TCP', port: n })]);

    test('default deny in and out for the whole namespace', () => {
      expect(policy('default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    });

    test('DNS, the Pod Identity agent and HTTPS for every platform pod', () => {
      const egress = policy('allow-dns-and-aws').spec.egress;
      expect(egress).toEqual(expect.arrayContaining([
        expect.objectContaining({ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }),
        { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      ]));
    });

    test('ALB -> gateway from the VPC on the gateway port; gateway -> services; order -> catalog; the scraper on the metrics port only', () => {
      const gw = policy('allow-gateway').spec;
      const fromVpc = (p: number) => ({ from: [{ ipBlock: { cidr: settings.vpcCidr } }], ports: [{ protocol: 'TCP', port: p }] });
      // The metrics port is open to the VPC only where the managed scraper reads it (not in dev).
      const scraped = settings.metricsScrapedFromVpc ? [fromVpc(settings.metricsPort)] : [];
      expect(settings.metricsScrapedFromVpc).toBe(config.observability.managedPrometheus);
      expect(gw.ingress).toEqual([fromVpc(settings.port), ...scraped]);
      for (const name of ['user', 'catalog', 'order']) {
        const ingress = policy(`allow-${name}`).spec.ingress;
        // callers on the API port; from the VPC (the scraper's interfaces) only the metrics port
        expect(ingress.filter((r: any) => r.from.some((f: any) => f.ipBlock))).toEqual(scraped);
      }
      expect(gw.egress[0].to.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name'])).toEqual(['user', 'catalog', 'order']);
      expect(policy('allow-catalog').spec.ingress[0].from.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name'])).toEqual(['gateway', 'order']);
      expect(policy('allow-order').spec.egress[0].to.map((p: any) => p.podSelector.matchLabels['app.kubernetes.io/name'])).toEqual(['catalog']);
      expect(policy('allow-user').spec.egress).toBeUndefined();
    });

    test('etcd: client port from platform pods only, peer port between members', () => {
      const etcd = policy('allow-etcd').spec;
      expect(etcd.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'platform' } } }], ports: [{ protocol: 'TCP', port: 2379 }] });
      expect(etcd.ingress[1]).toEqual({ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'etcd' } } }], ports: [{ protocol: 'TCP', port: 2380 }] });
      expect(policy('allow-registry-clients').spec.egress[0].ports).toEqual(port(2379));
    });

    test('data stores: each workload reaches only the ports of the stores it uses', () => {
      const dataPorts = (name: string) => policy(`allow-${name}-data`)?.spec.egress[0].ports.map((p: any) => p.port);
      expect(dataPorts('gateway')).toEqual([settings.dataPorts.redis]);
      for (const name of ['user', 'catalog', 'order', 'order-timeout', 'search-sync', 'search-sync-follow']) {
        expect({ name, ports: dataPorts(name) }).toEqual({ name, ports: [settings.dataPorts.mysql, settings.dataPorts.redis] });
      }
      expect(policy('allow-catalog-data').spec.egress[0].to).toEqual([{ ipBlock: { cidr: settings.vpcCidr } }]);
    });
  });

  test('smoke: a Job named after the release with a deadline; the load generator where enabled; both reach only the gateway', () => {
    const job = docs.find((d) => d.kind === 'Job');
    expect(job.metadata.name).toBe(`smoke-${settings.release}`);
    expect(job.spec).toEqual(expect.objectContaining({ activeDeadlineSeconds: config.workloads.smoke.deadlineSeconds, backoffLimit: 3, ttlSecondsAfterFinished: 86400 }));
    const jobEnv = Object.fromEntries(podSpecOf(job).containers[0].env.map((e: any) => [e.name, e.value]));
    expect(jobEnv).toEqual(expect.objectContaining({ SERVICE: 'smoke', SMOKE_BASE_URL: `http://gateway.${settings.namespace}.svc:${settings.port}`, SMOKE_CHECKOUT: String(config.workloads.smoke.checkout) }));
    expect(podSpecOf(job).restartPolicy).toBe('Never');
    expect(!!named('Deployment', 'loadgen')).toBe(config.workloads.loadgen.enabled);
    const egress = byKind('NetworkPolicy').find((p) => p.metadata.name === 'allow-smoke-to-gateway').spec.egress;
    expect(egress).toEqual([{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }], ports: [{ protocol: 'TCP', port: settings.port }] }]);
  });

  describe('tracing', () => {
    const collector = named('Deployment', 'otel-collector');
    const envOf = (d: any) => Object.fromEntries(podSpecOf(d).containers[0].env.map((e: any) => [e.name, e.value]));

    test('every service and job exports to the collector with the sampling ratio of the environment; the gateway clients do not', () => {
      const kit = workloads.filter((w) => podSpecOf(w).containers[0].image === settings.image && !['smoke', 'loadgen'].includes(envOf(w).SERVICE));
      expect(kit.map((w) => w.metadata.name).sort()).toEqual(['catalog', 'gateway', 'order', 'order-timeout', 'search-sync', 'search-sync-follow', 'user']);
      for (const w of kit) {
        expect({ w: w.metadata.name, env: envOf(w) }).toEqual({
          w: w.metadata.name,
          env: expect.objectContaining({
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://otel-collector.${settings.namespace}.svc:4318`,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
            OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
            OTEL_TRACES_SAMPLER_ARG: String(config.observability.tracing.sampleRatio),
            OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${env}`,
          }),
        });
      }
      for (const name of ['smoke', 'loadgen']) {
        const w = workloads.find((d) => envOf(d).SERVICE === name);
        if (w) expect(Object.keys(envOf(w)).filter((k) => k.startsWith('OTEL_'))).toEqual([]);
      }
    });

    test('the collector: pinned ADOT image, OTLP in, X-Ray out with request_id indexed, its own ServiceAccount, HPA and PDB', () => {
      const pod = podSpecOf(collector);
      const c = pod.containers[0];
      expect(c.image).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
      expect(c.args).toEqual(['--config=/conf/config.yaml']);
      expect(c.readinessProbe.httpGet).toEqual(expect.objectContaining({ path: '/', port: 13133 }));
      expect(pod.serviceAccountName).toBe('otel-collector');
      const cm = named('ConfigMap', 'otel-collector');
      expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'config', configMap: { name: cm.metadata.name } }]));
      const conf = JSON.parse(cm.data['config.yaml']);
      expect(conf.service.pipelines.traces).toEqual({ receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['awsxray'] });
      expect(conf.exporters.awsxray).toEqual({ region: config.region, indexed_attributes: expect.arrayContaining(['request_id']) });
      expect(conf.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '0.0.0.0:4318' } });
      expect(named('Service', 'otel-collector').spec.ports.map((p: any) => p.port)).toEqual([4317, 4318]);
      expect(byKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === 'otel-collector').spec.minReplicas).toBe(settings.tracing.collector.scale.minReplicas);
    });

    test('network: platform pods reach the collector on the OTLP ports only; it takes OTLP from platform pods only', () => {
      const policy = (name: string) => byKind('NetworkPolicy').find((p) => p.metadata.name === name).spec;
      const otlp = [{ protocol: 'TCP', port: 4317 }, { protocol: 'TCP', port: 4318 }];
      expect(policy('allow-otel-collector')).toEqual({
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'otel-collector' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'platform' } } }], ports: otlp }],
      });
      expect(policy('allow-otlp-exporters').egress).toEqual([{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'otel-collector' } } }], ports: otlp }]);
      expect(collector.spec.template.metadata.labels['app.kubernetes.io/part-of']).toBe('platform'); // so the namespace's HTTPS egress (X-Ray) applies
    });
  });

  test.each(['namespace', 'registry', 'telemetry', 'gateway', 'services', 'jobs', 'smoke'])('snapshot: %s chart', (chart) => {
    expect(built.charts.find(([name]) => name === chart)![1]).toMatchSnapshot();
  });
});

test('tracing off: no collector, no OTEL_* variable anywhere (the kit then loads no SDK)', () => {
  const { settings } = buildCharts('dev');
  const charts = buildWorkloadCharts(new App(), { ...settings, tracing: { ...settings.tracing, enabled: false } });
  expect(charts.telemetry).toBeUndefined();
  const docs = chartEntries(charts).flatMap(([, c]) => c.toJson());
  expect(chartEntries(charts).map(([name]) => name)).not.toContain('telemetry');
  expect(JSON.stringify(docs)).not.toMatch(/OTEL_|otel-collector/);
});
