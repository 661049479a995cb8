/**
 * The gateway's metrics, besides the kit's `http_*` ones. Every series also carries `service`
 * (the gateway's own name), so the service called is `upstream`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, HotPathCounter, HotPathHistogram, replyError, type AttemptEvent, type Registry } from '../kit';

/** A circuit state as the client reports it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The service client's `onAttempt` hook: `gateway_upstream_attempts_total{upstream,outcome}` and
 * `gateway_upstream_duration_seconds{upstream}`, in the registry the kit hands over.
 */
export function upstreamAttempts(registry: Registry): (event: AttemptEvent) => void {
  const attempts = new HotPathCounter({ name: 'gateway_upstream_attempts_total', help: 'Attempts to upstream instances by service and outcome.', labelNames: ['upstream', 'outcome'], registers: [registry] });
  const duration = new HotPathHistogram({ name: 'gateway_upstream_duration_seconds', help: 'Upstream attempt latency by service.', labelNames: ['upstream'], registers: [registry] });
  return (e) => {
    attempts.inc(e.service, e.outcome);
    duration.observe(e.durationMs / 1000, e.service);
  };
}

/** The gateway's per-request and operational metrics. */
export class GatewayMetrics {
  readonly requests: HotPathCounter;
  readonly latency: HotPathHistogram;
  readonly rejections: Counter<'reason'>;
  readonly limiterErrors: Counter<'mode'>;
  readonly reloads: Counter<'result'>;

  /** @param breakers each upstream's circuit state, read when `/metrics` is scraped */
  constructor(registry: Registry, breakers: () => Iterable<readonly [upstream: string, state: BreakerState]>) {
    const registers = [registry];
    this.requests = new HotPathCounter({ name: 'gateway_requests_total', help: 'API requests by route, upstream service and status.', labelNames: ['route', 'upstream', 'status'], registers });
    this.latency = new HotPathHistogram({ name: 'gateway_request_duration_seconds', help: 'API request latency through the gateway.', labelNames: ['route', 'upstream'], registers });
    this.rejections = new Counter({ name: 'gateway_rejections_total', help: 'Requests the gateway answered itself, by reason.', labelNames: ['reason'] as const, registers });
    this.limiterErrors = new Counter({ name: 'gateway_ratelimit_redis_errors_total', help: 'Rate-limit checks that failed on Redis, by fail mode applied.', labelNames: ['mode'] as const, registers });
    this.reloads = new Counter({ name: 'gateway_config_reloads_total', help: 'Dynamic config reloads by result.', labelNames: ['result'] as const, registers });
    new Gauge({
      name: 'gateway_breaker_state',
      help: 'Upstream circuit state: 0 closed, 1 half-open, 2 open.',
      labelNames: ['upstream'] as const,
      registers,
      collect() {
        for (const [upstream, state] of breakers()) this.set({ upstream }, BREAKER_VALUE[state]);
      },
    });
  }

  /** One API request answered (routed or refused after routing), from the access-log fields. */
  observe(req: FastifyRequest, reply: FastifyReply): void {
    const a = req.accessLog;
    if (!a?.route) return;
    const route = a.route as string;
    const upstream = (a.service as string | undefined) ?? '-';
    this.requests.inc(route, upstream, String(reply.statusCode));
    this.latency.observe(reply.elapsedTime / 1000, route, upstream);
  }
}

/** Sends one of the gateway's own refusals: `{ error: reason, message, ...extra, requestId }`. */
export type Reject = (req: FastifyRequest, reply: FastifyReply, status: number, reason: string, message: string, extra?: object) => FastifyReply;

/** The gateway's refusals, each counted by reason and noted in the access log. */
export function rejecter(metrics: GatewayMetrics): Reject {
  return (req, reply, status, reason, message, extra) => {
    metrics.rejections.inc({ reason });
    req.accessLog = { ...req.accessLog, rejected: reason };
    return replyError(reply, status, reason, message, extra);
  };
}
