import { Yaml } from 'cdk8s';
import { ENVIRONMENTS } from '../lib/config';
import {
  BURN_WINDOWS, fastRequestsRate, GATEWAY_LATENCY_BUCKETS_SECONDS, LATENCY_SLO_TARGET, platformRules, PrometheusRuleFile, renderRules,
} from '../lib/observability/prometheus-rules';
import { LATENCY_BUCKETS } from '../services/src/kit/metrics';
import { build } from './support/platform';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ManagedPrometheus, PlatformCluster } from '../lib/constructs';
import { amtool, promtool, promtoolPath } from './support/promtool';
import { testApp } from './support/synth';

// The first promtool call builds it (`go install`, several minutes cold on 2 busy cores), then cached.
const INSTALL_TIMEOUT = 60 * 60 * 1000;
const ENVS = Object.values(ENVIRONMENTS);

/** The rules without annotations: promtool compares annotations too, and these render $value. */
function withoutAnnotations(file: PrometheusRuleFile): PrometheusRuleFile {
  return { groups: file.groups.map((g) => ({ ...g, rules: g.rules.map(({ annotations: _a, ...r }) => r) })) };
}

interface Series { series: string; values: string }
interface AlertTest { eval_time: string; alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }

/** Runs `promtool test rules` on one test group against `rules`; fails the jest test with promtool's output. */
function expectRuleTest(rules: PrometheusRuleFile, input: Series[], alerts: AlertTest[]): void {
  const tests = { rule_files: ['rules.yml'], evaluation_interval: '1m', tests: [{ interval: '1m', input_series: input, alert_rule_test: alerts }] };
  const r = promtool(['test', 'rules', 'tests.yml'], { 'rules.yml': renderRules(withoutAnnotations(rules)), 'tests.yml': Yaml.stringify(tests) });
  if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.output}`);
  expect(r.output).toMatch(/SUCCESS/);
}

/** Gateway requests at `perMinute`, `errorShare` of them 5xx, for `minutes`. */
function requests(perMinute: number, errorShare: number, minutes: number): Series[] {
  const errors = Math.round(perMinute * errorShare);
  return [
    { series: 'gateway_requests_total{route="/api/catalog",upstream="catalog",status="200"}', values: `0+${perMinute - errors}x${minutes}` },
    { series: 'gateway_requests_total{route="/api/catalog",upstream="catalog",status="503"}', values: `0+${errors}x${minutes}` },
  ];
}

/** Gateway latency histogram: `fastShare` of requests between 5 and 10 ms, the rest between 2.5 and 5 s. */
function latency(perMinute: number, fastShare: number, minutes: number): Series[] {
  const fast = Math.round(perMinute * fastShare);
  const bucket = (le: string, n: number) => ({ series: `gateway_request_duration_seconds_bucket{route="/api/catalog",upstream="catalog",le="${le}"}`, values: `0+${n}x${minutes}` });
  return [
    ...GATEWAY_LATENCY_BUCKETS_SECONDS.map((b) => bucket(String(b), b < 5 && b >= 0.01 ? fast : b < 0.01 ? 0 : perMinute)),
    bucket('+Inf', perMinute),
    { series: 'gateway_request_duration_seconds_count{route="/api/catalog",upstream="catalog"}', values: `0+${perMinute}x${minutes}` },
  ];
}

const burnLabels = (slo: string, long: string) => {
  const w = BURN_WINDOWS.find((x) => x.long === long)!;
  return { severity: w.severity, slo, long_window: w.long, short_window: w.short, burn_rate: String(w.factor) };
};

describe('Prometheus rules and scrape configuration (promtool, Prometheus 3.16)', () => {
  beforeAll(() => {
    expect(promtoolPath()).toMatch(/promtool$/);
  }, INSTALL_TIMEOUT);

  test('the latency buckets the rules assume are the services kit\'s', () => {
    expect([...GATEWAY_LATENCY_BUCKETS_SECONDS]).toEqual(LATENCY_BUCKETS);
  });

  test.each(ENVS.map((c) => [c.envName, c] as const))('%s: the latency objective is a bucket boundary, counted exactly', (_env, c) => {
    expect(fastRequestsRate(c.observability.slo.latencyP99Ms / 1000, '5m')).toEqual({ exact: true, expr: expect.stringMatching(/^sum\(rate\(gateway_request_duration_seconds_bucket\{le="[\d.]+"\}\[5m\]\)\)$/) });
  });

  test('an objective between two buckets is interpolated between them', () => {
    expect(fastRequestsRate(0.35, '5m', [0.25, 0.5, 1])).toEqual({ exact: false, expr: expect.stringContaining('le="0.25"') });
    expect(fastRequestsRate(0.35, '5m', [0.25, 0.5, 1]).expr).toMatch(/\* 0\.4\)$/);
    expect(() => fastRequestsRate(20, '5m')).toThrow(/above the gateway histogram's largest bucket/);
  });

  test.each(ENVS.map((c) => [c.envName, c] as const))('%s: promtool check rules accepts the rule file', (_env, c) => {
    const r = promtool(['check', 'rules', '--lint=all', '--lint-fatal', 'rules.yml'], { 'rules.yml': renderRules(platformRules(c.observability.slo)) });
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  test.each(ENVS.map((c) => [c.envName, c] as const))('%s: the 1h/5m error budget alert fires above 14.4x the budget and not below', (_env, c) => {
    const rules = platformRules(c.observability.slo);
    const budget = 1 - c.observability.slo.availability;
    // 20x the budget for 70 min: both windows above 14.4x; pages after its 2 min `for`
    expectRuleTest(rules, requests(10_000, 20 * budget, 80), [
      // pending, not firing, before its 2 min `for`
      { eval_time: '1m', alertname: 'GatewayErrorsBudgetBurn1h', exp_alerts: [] },
      { eval_time: '70m', alertname: 'GatewayErrorsBudgetBurn1h', exp_alerts: [{ exp_labels: burnLabels('availability', '1h') }] },
    ]);
    // 10x the budget: under 14.4x, no 1h page (the 6h/30m one at 6x may fire; not asserted here)
    expectRuleTest(rules, requests(10_000, 10 * budget, 80), [
      { eval_time: '70m', alertname: 'GatewayErrorsBudgetBurn1h', exp_alerts: [] },
    ]);
  });

  test('the short window ends the page soon after the errors stop, while the 1h ratio is still high', () => {
    const rules = platformRules(ENVIRONMENTS.prod.observability.slo);
    // 20x the budget (200 of 10,000 a minute) for 60 min, then 10 min without errors
    expectRuleTest(rules, [
      { series: 'gateway_requests_total{route="/api/catalog",upstream="catalog",status="200"}', values: '0+9800x60 598000+10000x19' },
      { series: 'gateway_requests_total{route="/api/catalog",upstream="catalog",status="503"}', values: '0+200x60 12000+0x19' },
    ], [
      { eval_time: '60m', alertname: 'GatewayErrorsBudgetBurn1h', exp_alerts: [{ exp_labels: burnLabels('availability', '1h') }] },
      { eval_time: '72m', alertname: 'GatewayErrorsBudgetBurn1h', exp_alerts: [] },
    ]);
  });

  test.each(ENVS.map((c) => [c.envName, c] as const))('%s: the latency budget alert fires when too many requests exceed the objective', (_env, c) => {
    const rules = platformRules(c.observability.slo);
    const budget = 1 - LATENCY_SLO_TARGET;
    expectRuleTest(rules, latency(10_000, 1 - 20 * budget, 80), [
      { eval_time: '70m', alertname: 'GatewayLatencyBudgetBurn1h', exp_alerts: [{ exp_labels: burnLabels('latency', '1h') }] },
    ]);
    expectRuleTest(rules, latency(10_000, 1 - 10 * budget, 80), [
      { eval_time: '70m', alertname: 'GatewayLatencyBudgetBurn1h', exp_alerts: [] },
    ]);
  });

  test('an interpolated latency objective (350 ms, between buckets) passes promtool and pages the same way', () => {
    const rules = platformRules({ availability: 0.999, latencyP99Ms: 350 });
    expect(renderRules(rules)).toContain('* 0.5)');
    const r = promtool(['check', 'rules', 'rules.yml'], { 'rules.yml': renderRules(rules) });
    expect(r.status).toBe(0);
    const budget = 1 - LATENCY_SLO_TARGET;
    expectRuleTest(rules, latency(10_000, 1 - 20 * budget, 80), [
      { eval_time: '70m', alertname: 'GatewayLatencyBudgetBurn1h', exp_alerts: [{ exp_labels: burnLabels('latency', '1h') }] },
    ]);
  });

  test('component alerts: breaker, rate-limiter Redis, registry lease, failed Job, missing gateway metrics', () => {
    const rules = platformRules(ENVIRONMENTS.prod.observability.slo);
    expectRuleTest(rules, [
      { series: 'gateway_breaker_state{service="gateway",pod="gateway-a",upstream="user"}', values: '0 0 2 2 1 2 2 2 2 2' },
      { series: 'gateway_breaker_state{service="gateway",pod="gateway-a",upstream="catalog"}', values: '0 0 0 0 0 0 0 0 0 0' },
      { series: 'gateway_ratelimit_redis_errors_total{service="gateway",mode="open"}', values: '0 5 10 15 20 25 30 35 40 45 50' },
      { series: 'registry_lease_lost_total{service="order",pod="order-a"}', values: '0 0 0 1 1 1 1 1 1 1' },
      { series: 'registry_lease_lost_total{service="user",pod="user-a"}', values: '0 0 0 0 0 0 0 0 0 0' },
      // the first failure is a new series (increase() alone would miss it)
      { series: 'job_controller_jobs_finished_total{result="failed",reason="BackoffLimitExceeded"}', values: '_ _ _ _ 1 1 1 1 1 1' },
      { series: 'job_controller_jobs_finished_total{result="succeeded",reason="CompletionsReached"}', values: '1+1x10' },
      { series: 'up{job="pods",app="user"}', values: '1+0x20' },
    ], [
      { eval_time: '5m', alertname: 'GatewayCircuitBreakerOpen', exp_alerts: [{ exp_labels: { severity: 'ticket', upstream: 'user' } }] },
      { eval_time: '1m', alertname: 'GatewayCircuitBreakerOpen', exp_alerts: [] },
      { eval_time: '8m', alertname: 'GatewayRateLimiterRedisErrors', exp_alerts: [{ exp_labels: { severity: 'ticket', mode: 'open' } }] },
      { eval_time: '4m', alertname: 'RegistryLeaseLost', exp_alerts: [{ exp_labels: { severity: 'ticket', service: 'order' } }] },
      { eval_time: '2m', alertname: 'RegistryLeaseLost', exp_alerts: [] },
      { eval_time: '5m', alertname: 'PlatformJobFailed', exp_alerts: [{ exp_labels: { severity: 'ticket', reason: 'BackoffLimitExceeded' } }] },
      { eval_time: '3m', alertname: 'PlatformJobFailed', exp_alerts: [] },
      { eval_time: '11m', alertname: 'GatewayMetricsMissing', exp_alerts: [{ exp_labels: { severity: 'ticket' } }] },
    ]);
  });

  test('the managed scraper\'s scrape configuration is a valid Prometheus configuration', () => {
    const { platform } = build('staging');
    // --syntax-only: the token and CA files exist only inside the scraper
    const r = promtool(['check', 'config', '--syntax-only', 'prometheus.yml'], { 'prometheus.yml': platform.workloads.metrics!.scrapeConfiguration });
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });

  test('the alert manager definition given a topic is a valid Alertmanager configuration (amtool)', () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const platform = new PlatformCluster(stack, 'Platform', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }), clusterName: 'demo' });
    const metrics = new ManagedPrometheus(stack, 'Metrics', {
      cluster: platform.cluster, namespaces: ['platform'], metricsPorts: [8080],
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
    });
    // AMP's definition wraps the Alertmanager configuration in `alertmanager_config: |`
    const [first, ...rest] = metrics.alertManagerDefinition!.split('\n');
    expect(first).toBe('alertmanager_config: |');
    const config = rest.map((l) => l.replace(/^ {2}/, '')).join('\n');
    expect(config).toContain('topic_arn: arn:aws:sns:eu-west-1:123456789012:alarms');
    const r = amtool(['check-config', 'alertmanager.yml'], { 'alertmanager.yml': config });
    expect(r.output).toMatch(/SUCCESS[\s\S]*1 receivers/);
    expect(r.status).toBe(0);
  }, 30 * 60 * 1000);

  test('a target the budget cannot reach is refused, naming the field', () => {
    expect(() => platformRules({ availability: 0.9, latencyP99Ms: 300 })).toThrow(/observability\.slo\.availability: .*14\.4x/);
  });
});
