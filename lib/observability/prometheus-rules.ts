import { Yaml } from 'cdk8s';
import { SloConfig } from '../config';

/**
 * The platform's Prometheus rules, generated from config: SLO recording rules and multi-window,
 * multi-burn-rate alerts on the gateway (Google SRE workbook, "Alerting on SLOs"), and alerts on the
 * breaker, the rate limiter's Redis, registry leases and Job failures. Metric names are the ones
 * services/src exposes (kit/metrics.ts, gateway/app.ts, kit/registry.ts) and the
 * kube-controller-manager's `job_controller_jobs_finished_total`.
 */

/**
 * Bucket boundaries (seconds) of `gateway_request_duration_seconds`: services/src/kit/metrics.ts
 * LATENCY_BUCKETS (a test keeps the two equal). A latency objective on a boundary is counted
 * exactly; one between two is interpolated linearly, as histogram_quantile does.
 */
export const GATEWAY_LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.4, 0.5, 1, 2.5, 5, 10];

/** The latency SLO counts requests faster than the objective: p99 means 99 % of them. */
export const LATENCY_SLO_TARGET = 0.99;

/** A pair of windows and the budget burn rate both must exceed (SRE workbook, table 5-8). */
export interface BurnWindow {
  readonly long: string;
  readonly short: string;
  /** Burn rate: 1 spends exactly the 30-day budget in 30 days. */
  readonly factor: number;
  readonly severity: 'page' | 'ticket';
  /** How long the condition must hold before the alert fires. */
  readonly for: string;
  /** Share of the 30-day budget spent when the long window alone triggers. */
  readonly budgetSpent: string;
}

export const BURN_WINDOWS: readonly BurnWindow[] = [
  { long: '1h', short: '5m', factor: 14.4, severity: 'page', for: '2m', budgetSpent: '2 %' },
  { long: '6h', short: '30m', factor: 6, severity: 'page', for: '15m', budgetSpent: '5 %' },
  { long: '1d', short: '2h', factor: 3, severity: 'ticket', for: '1h', budgetSpent: '10 %' },
  { long: '3d', short: '6h', factor: 1, severity: 'ticket', for: '3h', budgetSpent: '10 %' },
];

/** Scrape job of the pods (ManagedPrometheus's scrape configuration) and the gateway's `app` label. */
export const POD_JOB = 'pods';
export const GATEWAY_APP = 'gateway';

export interface PrometheusRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
export interface PrometheusRuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: PrometheusRule[];
}
export interface PrometheusRuleFile {
  readonly groups: PrometheusRuleGroup[];
}

const windows = (): string[] => [...new Set(BURN_WINDOWS.flatMap((w) => [w.long, w.short]))];
const num = (n: number): string => String(Number(n.toPrecision(12)));

/** Recording rule names of the two SLIs (error ratio, slow ratio) over one window. */
export const errorRatio = (w: string): string => `gateway:slo_errors:ratio_rate${w}`;
export const slowRatio = (w: string): string => `gateway:slo_slow_requests:ratio_rate${w}`;

/** `le` matcher of one bucket bound: Prometheus 3 may write `1` as `1.0`, so both spellings match. */
function leMatcher(bound: number): string {
  const s = num(bound);
  return Number.isInteger(bound) ? `le=~"${s}(\\\\.0)?"` : `le="${s}"`;
}

/**
 * Rate of gateway requests at most `thresholdSeconds` long over window `w`: a bucket when the
 * threshold is a boundary, else the linear interpolation between the two around it.
 */
export function fastRequestsRate(thresholdSeconds: number, w: string, buckets: readonly number[] = GATEWAY_LATENCY_BUCKETS_SECONDS): { expr: string; exact: boolean } {
  const bucket = (b: number) => `sum(rate(gateway_request_duration_seconds_bucket{${leMatcher(b)}}[${w}]))`;
  const exact = buckets.find((b) => Math.abs(b - thresholdSeconds) < 1e-9);
  if (exact !== undefined) return { expr: bucket(exact), exact: true };
  const upper = buckets.find((b) => b > thresholdSeconds);
  const lower = [...buckets].reverse().find((b) => b < thresholdSeconds) ?? 0;
  if (upper === undefined) throw new Error(`latency objective ${thresholdSeconds}s is above the gateway histogram's largest bucket (${buckets[buckets.length - 1]}s)`);
  const share = num((thresholdSeconds - lower) / (upper - lower));
  const low = lower === 0 ? '0' : bucket(lower);
  return { expr: `(${low} + (${bucket(upper)} - ${low}) * ${share})`, exact: false };
}

/** Windows up to an hour are recorded every minute; the longer ones every 5 (AMP bills query samples). */
export const SHORT_WINDOWS = ['5m', '30m', '1h'];

/** Recording rules of both SLIs over the windows `ws`. */
function sliRecordingRules(slo: SloConfig, ws: string[]): PrometheusRule[] {
  const threshold = slo.latencyP99Ms / 1000;
  const rules: PrometheusRule[] = [];
  for (const w of ws) {
    rules.push({
      record: errorRatio(w),
      expr: `sum(rate(gateway_requests_total{status=~"5.."}[${w}])) / sum(rate(gateway_requests_total[${w}]))`,
    });
  }
  for (const w of ws) {
    const fast = fastRequestsRate(threshold, w);
    rules.push({
      record: slowRatio(w),
      expr: `1 - ${fast.expr} / sum(rate(gateway_request_duration_seconds_count[${w}]))`,
    });
  }
  return rules;
}

function burnAlerts(name: string, what: string, ratio: (w: string) => string, target: number, field: string): PrometheusRule[] {
  const budget = 1 - target;
  return BURN_WINDOWS.map((w) => {
    const threshold = w.factor * budget;
    if (threshold >= 1) {
      throw new Error(`${field}: a target of ${target} leaves a budget of ${num(budget)}, which a ${w.factor}x burn rate cannot exceed (the ${w.long}/${w.short} alert could never fire); use a target of at least ${num(1 - 1 / w.factor)}`);
    }
    return {
      alert: `${name}BudgetBurn${w.long}`,
      expr: `${ratio(w.long)} > ${num(threshold)} and ${ratio(w.short)} > ${num(threshold)}`,
      for: w.for,
      labels: { severity: w.severity, slo: name === 'GatewayErrors' ? 'availability' : 'latency', long_window: w.long, short_window: w.short, burn_rate: num(w.factor) },
      annotations: {
        summary: `Gateway ${what} burn ${w.factor}x the 30-day error budget over ${w.long} and ${w.short}`,
        description: `${what[0].toUpperCase()}${what.slice(1)} is {{ $value | humanizePercentage }} over ${w.short} (budget ${num(budget * 100)} %, threshold ${num(threshold * 100)} %): at this rate ${w.budgetSpent} of the 30-day budget goes in ${w.long}.`,
      },
    };
  });
}

/** Every rule group of the platform for one environment's SLOs. */
export function platformRules(slo: SloConfig): PrometheusRuleFile {
  const latencyMs = slo.latencyP99Ms;
  return {
    groups: [
      { name: 'gateway-slo-sli-short', interval: '1m', rules: sliRecordingRules(slo, windows().filter((w) => SHORT_WINDOWS.includes(w))) },
      { name: 'gateway-slo-sli-long', interval: '5m', rules: sliRecordingRules(slo, windows().filter((w) => !SHORT_WINDOWS.includes(w))) },
      {
        name: 'gateway-slo-burn',
        rules: [
          ...burnAlerts('GatewayErrors', 'the 5xx ratio', errorRatio, slo.availability, 'observability.slo.availability'),
          ...burnAlerts('GatewayLatency', `the ratio of requests slower than ${latencyMs} ms`, slowRatio, LATENCY_SLO_TARGET, 'observability.slo.latencyP99Ms'),
        ],
      },
      {
        name: 'platform-components',
        rules: [
          {
            alert: 'GatewayCircuitBreakerOpen',
            expr: 'max by (upstream) (gateway_breaker_state) >= 1',
            for: '2m',
            labels: { severity: 'ticket' },
            annotations: {
              summary: 'The gateway\'s circuit to {{ $labels.upstream }} has not been closed for 2 minutes',
              description: 'Open or half-open in at least one gateway pod: calls to {{ $labels.upstream }} fail fast with 503. Check that service\'s pods, readiness and logs.',
            },
          },
          {
            alert: 'GatewayRateLimiterRedisErrors',
            expr: 'sum by (mode) (rate(gateway_ratelimit_redis_errors_total[5m])) > 0',
            for: '5m',
            labels: { severity: 'ticket' },
            annotations: {
              summary: 'Rate-limit checks fail on Redis (fail mode {{ $labels.mode }})',
              description: '{{ $value | humanize }} failed checks per second: with fail mode "open" limits are not enforced, with "closed" requests are refused. Check the Redis cluster and the gateway\'s connection to it.',
            },
          },
          {
            alert: 'RegistryLeaseLost',
            expr: 'sum by (service) (increase(registry_lease_lost_total[10m])) > 0',
            labels: { severity: 'ticket' },
            annotations: {
              summary: '{{ $labels.service }} lost its etcd registry lease',
              description: 'Instances of {{ $labels.service }} dropped out of discovery until they registered again ({{ $value | humanize }} times in 10 minutes). Check etcd health and the pods\' network to it.',
            },
          },
          {
            alert: 'PlatformJobFailed',
            // increase() misses a counter's first sample: a series new in the last 15 min counts too.
            expr: 'sum by (reason) (increase(job_controller_jobs_finished_total{result="failed"}[15m])) > 0'
              + ' or sum by (reason) (job_controller_jobs_finished_total{result="failed"} unless job_controller_jobs_finished_total{result="failed"} offset 15m) > 0',
            labels: { severity: 'ticket' },
            annotations: {
              summary: 'A Kubernetes Job failed ({{ $labels.reason }})',
              description: 'A Job of the cluster (order-timeout, search-sync or smoke) ended failed in the last 15 minutes. kubectl -n platform get jobs; the pod logs say why.',
            },
          },
          {
            alert: 'GatewayMetricsMissing',
            expr: `absent(up{job="${POD_JOB}", app="${GATEWAY_APP}"} == 1)`,
            for: '10m',
            labels: { severity: 'ticket' },
            annotations: {
              summary: 'No gateway pod has been scraped for 10 minutes',
              description: 'The SLO alerts see no traffic while this fires. Check the scraper, the gateway pods\' prometheus.io annotations and the NetworkPolicy and security group rules to the metrics port.',
            },
          },
        ],
      },
    ],
  };
}

/** The rule file as YAML (what the workspace's rule groups namespace and promtool read). */
export function renderRules(file: PrometheusRuleFile): string {
  return Yaml.stringify(file);
}
