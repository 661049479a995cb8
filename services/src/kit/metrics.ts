import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  readonly requests: Counter<'method' | 'route' | 'status'>;
  /** `http_request_duration_seconds{method,route,status}`. */
  readonly duration: Histogram<'method' | 'route' | 'status'>;
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
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { registry, requests, duration };
}
