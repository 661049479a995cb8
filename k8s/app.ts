import { App, Chart } from 'cdk8s';
import { NamespaceChart } from './charts/namespace';
import { RegistryChart } from './charts/registry';
import { SmokeChart } from './charts/smoke';
import { TelemetryChart } from './charts/telemetry';
import { GatewayChart, JobsChart, ServicesChart } from './charts/workloads';
import { WorkloadSettings } from './settings';

export * from './settings';
export { TargetGroupBinding } from './target-group-binding';
export { Microservice } from './microservice';
export { serviceEnv, tracingEnv, OTEL_COLLECTOR } from './env';

/** The platform's charts, in apply order (namespace first). Ids are stable: they name the manifests. */
export interface WorkloadCharts {
  readonly namespace: NamespaceChart;
  readonly registry: RegistryChart;
  /** The OpenTelemetry collector (only when tracing is on). */
  readonly telemetry?: TelemetryChart;
  readonly gateway: GatewayChart;
  readonly services: ServicesChart;
  readonly jobs: JobsChart;
  /** Applied last: the release's smoke Job (and the load generator). */
  readonly smoke: SmokeChart;
}

/** Builds every chart into `app` from one settings object. */
export function buildWorkloadCharts(app: App, settings: WorkloadSettings): WorkloadCharts {
  return {
    namespace: new NamespaceChart(app, 'namespace', settings),
    registry: new RegistryChart(app, 'registry', settings),
    ...(settings.tracing.enabled ? { telemetry: new TelemetryChart(app, 'telemetry', settings) } : {}),
    gateway: new GatewayChart(app, 'gateway', settings),
    services: new ServicesChart(app, 'services', settings),
    jobs: new JobsChart(app, 'jobs', settings),
    smoke: new SmokeChart(app, 'smoke', settings),
  };
}

/** Charts as [name, chart] in apply order. */
export const chartEntries = (c: WorkloadCharts): [string, Chart][] => Object.entries(c).filter((e): e is [string, Chart] => e[1] !== undefined);
