import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Latency buckets (seconds) that resolve both a 1 ms proxy hop and a 10 s slow query. 0.3, 0.4 and
 * 0.5 are the gateway's latency objectives (observability.slo.latencyP99Ms: prod, staging, dev), so
 * the SLO alerts count requests above them exactly (lib/observability/prometheus-rules.ts).
 */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.4, 0.5, 1, 2.5, 5, 10];

/** The HTTP metrics every service exposes on `/metrics`. */
export interface HttpMetrics {
  readonly registry: Registry;
  /** `http_requests_total{method,route,status}`: rate and errors (status >= 500). */
  readonly requests: HotPathCounter;
  /** `http_request_duration_seconds{method,route,status}`. */
  readonly duration: HotPathHistogram;
}

/** Options of {@link HotPathCounter} and {@link HotPathHistogram}. */
export interface HotPathMetricSettings {
  readonly name: string;
  readonly help: string;
  /** At most three. */
  readonly labelNames: readonly string[];
  readonly registers: readonly Registry[];
}

/**
 * Label values → a series, through one map per label: nothing is built or hashed per call once a
 * label set has been seen (prom-client builds and hashes a label string on every inc / observe).
 */
class SeriesTable<S> {
  private root = new Map<string, unknown>();
  private list: S[] = [];
  private last: S | undefined;
  private lastA = '';
  private lastB = '';
  private lastC = '';

  constructor(
    private readonly labelNames: readonly string[],
    private readonly create: (labels: Record<string, string>) => S,
  ) {
    if (labelNames.length > 3) throw new Error('a hot-path metric has at most three labels');
  }

  get(a: string, b: string, c: string): S {
    // Consecutive requests mostly share their labels: the last series is checked first.
    if (this.last !== undefined && a === this.lastA && b === this.lastB && c === this.lastC) return this.last;
    const series = this.find(a, b, c);
    this.last = series;
    this.lastA = a;
    this.lastB = b;
    this.lastC = c;
    return series;
  }

  private find(a: string, b: string, c: string): S {
    switch (this.labelNames.length) {
      case 0:
        return this.leaf(this.root, '', a, b, c);
      case 1:
        return this.leaf(this.root, a, a, b, c);
      case 2:
        return this.leaf(this.level(this.root, a), b, a, b, c);
      default:
        return this.leaf(this.level(this.level(this.root, a), b), c, a, b, c);
    }
  }

  all(): readonly S[] {
    return this.list;
  }

  clear(): void {
    this.root = new Map();
    this.list = [];
    this.last = undefined;
  }

  private level(map: Map<string, unknown>, key: string): Map<string, unknown> {
    let next = map.get(key) as Map<string, unknown> | undefined;
    if (!next) {
      next = new Map();
      map.set(key, next);
    }
    return next;
  }

  private leaf(map: Map<string, unknown>, key: string, a: string, b: string, c: string): S {
    let series = map.get(key) as S | undefined;
    if (series === undefined) {
      const labels: Record<string, string> = {};
      [a, b, c].slice(0, this.labelNames.length).forEach((v, i) => (labels[this.labelNames[i]] = v));
      series = this.create(labels);
      map.set(key, series);
      this.list.push(series);
    }
    return series;
  }
}

// The part of prom-client's metric contract its Registry reads (`metrics()`, `getMetricsAsJSON()`, reset).
type Exposed = Parameters<Registry['registerMetric']>[0];

/** A counter on a per-request path; on `/metrics` it reads like prom-client's Counter. */
export class HotPathCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly table: SeriesTable<{ labels: Record<string, string>; value: number }>;

  constructor(settings: HotPathMetricSettings) {
    this.name = settings.name;
    this.help = settings.help;
    this.table = new SeriesTable(settings.labelNames, (labels) => ({ labels, value: 0 }));
    for (const registry of settings.registers) registry.registerMetric(this as unknown as Exposed);
  }

  /** Adds one to the series of these label values (in `labelNames` order). */
  inc(a = '', b = '', c = ''): void {
    this.table.get(a, b, c).value += 1;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string>; value: number }> }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.table.all().map((s) => ({ labels: s.labels, value: s.value })) };
  }

  reset(): void {
    this.table.clear();
  }
}

/** A histogram on a per-request path; on `/metrics` it reads like prom-client's Histogram. */
export class HotPathHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly table: SeriesTable<{ labels: Record<string, string>; counts: number[]; sum: number; count: number }>;

  constructor(
    settings: HotPathMetricSettings,
    private readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    this.name = settings.name;
    this.help = settings.help;
    this.table = new SeriesTable(settings.labelNames, (labels) => ({ labels, counts: buckets.map(() => 0), sum: 0, count: 0 }));
    for (const registry of settings.registers) registry.registerMetric(this as unknown as Exposed);
  }

  /** Records `value` in the series of these label values (in `labelNames` order). */
  observe(value: number, a = '', b = '', c = ''): void {
    const s = this.table.get(a, b, c);
    s.sum += value;
    s.count += 1;
    const bounds = this.buckets;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        s.counts[i] += 1;
        return;
      }
    }
  }

  /** prom-client's shape for the text format: each bucket's `le` in `labels`, the series' labels shared. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<Record<string, unknown>> }> {
    const values: Array<Record<string, unknown>> = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.table.all()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ labels: { le }, sharedLabels: s.labels, value: cumulative, metricName: bucket, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The JSON shape: each value's labels with the series' labels merged in. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<Record<string, unknown>> }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...(labels as object), ...(sharedLabels as object) } }));
    return data;
  }

  reset(): void {
    this.table.clear();
  }
}

/**
 * A registry per service (not the prom-client global one, so tests can run several services in one
 * process) with Node process metrics and the HTTP request counter + latency histogram per route.
 * Every series carries the default label `service`: do not name a label of your own `service`
 * (it would silently replace it); the gateway uses `upstream` for the service it calls.
 */
export function createMetrics(labels: { service: string; instance?: string }, withDefaults = true): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: labels.service });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  const requests = new HotPathCounter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new HotPathHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  return { registry, requests, duration };
}
