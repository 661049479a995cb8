/**
 * The gateway's rate limits: which counters a request takes a hit on (per IP, per user, per
 * route), the RateLimit-* headers, the 429, and what happens when Redis fails (the fail mode).
 * The counters themselves are rate-limit.ts, in Redis Cluster, shared by every gateway instance.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { connectRedisCluster, type Identity, type Logger, type ServiceContext } from '../kit';
import type { GatewayMetrics, Reject } from './metrics';
import { RedisRateLimiter, type LimitCounters, type LimitDecision, type LimitHit } from './rate-limit';
import type { CompiledSettings } from './settings';

/** The counters one request takes a hit on. */
export function limitHits(s: CompiledSettings, method: string, pathname: string, ip: string, identity?: Identity): LimitHit[] {
  const rl = s.source.rateLimits;
  const hits: LimitHit[] = [];
  if (rl.ip) hits.push({ key: `ip:${ip}`, rule: rl.ip });
  if (rl.user && identity) hits.push({ key: `user:${identity.userId}`, rule: rl.user });
  for (const r of s.routeLimits) {
    if (!r.test(method, pathname)) continue;
    const who = r.by === 'user' && identity ? `user:${identity.userId}` : `ip:${ip}`;
    hits.push({ key: `${r.id}:${r.match}:${who}`, rule: r });
  }
  return hits;
}

/** The IETF RateLimit headers of the binding counter. */
export function setLimitHeaders(reply: FastifyReply, d: LimitDecision): void {
  reply.header('ratelimit-limit', d.limit);
  reply.header('ratelimit-remaining', d.remaining);
  reply.header('ratelimit-reset', d.resetSeconds);
  reply.header('ratelimit-policy', `${d.limit};w=${d.windowSeconds}`);
}

/** Applies the limits of the settings in force to each request. */
export class RateLimits {
  private lastWarning = 0;

  constructor(
    private readonly limiter: LimitCounters,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
    private readonly reject: Reject,
  ) {}

  /**
   * Takes a hit on every limit the request falls under. Undefined when it may go on (with the
   * RateLimit-* headers set), otherwise the answer sent: 429, or 503 when Redis fails and the
   * fail mode is `closed` (with `open`, the request goes on and the error is counted).
   */
  async admit(req: FastifyRequest, reply: FastifyReply, s: CompiledSettings, pathname: string, identity?: Identity): Promise<FastifyReply | undefined> {
    let decision: LimitDecision | undefined;
    try {
      decision = await this.limiter.hit(limitHits(s, req.method, pathname, req.ip, identity));
    } catch (err) {
      const mode = s.source.failMode;
      this.metrics.limiterErrors.inc({ mode });
      if (Date.now() - this.lastWarning > 5000) {
        this.lastWarning = Date.now();
        this.log.warn({ err: (err as Error).message, mode }, 'rate limiter unavailable');
      }
      if (mode === 'closed') return this.reject(req, reply, 503, 'rate_limiter_unavailable', 'The service is temporarily unavailable. Please retry shortly.');
      return undefined;
    }
    if (!decision) return undefined;
    setLimitHeaders(reply, decision);
    return decision.allowed ? undefined : this.tooMany(req, reply, decision);
  }

  /**
   * A request the gateway is about to refuse (a 401) still counts against the client's IP, so
   * guessing tokens ends in 429: the 429 sent, or undefined (also when Redis fails).
   */
  async countRefused(req: FastifyRequest, reply: FastifyReply, s: CompiledSettings): Promise<FastifyReply | undefined> {
    const rule = s.source.rateLimits.ip;
    if (!rule) return undefined;
    const d = await this.limiter.hit([{ key: `ip:${req.ip}`, rule }]).catch(() => undefined);
    if (!d || d.allowed) return undefined;
    setLimitHeaders(reply, d);
    return this.tooMany(req, reply, d);
  }

  private tooMany(req: FastifyRequest, reply: FastifyReply, d: LimitDecision): FastifyReply {
    reply.header('retry-after', d.resetSeconds);
    return this.reject(req, reply, 429, 'rate_limited', `Too many requests. Retry in ${d.resetSeconds} s.`, { retryAfter: d.resetSeconds });
  }
}

/** The limits with a Redis Cluster client of their own, closed at shutdown. */
export function createRateLimits(
  ctx: ServiceContext,
  options: { readonly keyPrefix: string; readonly timeoutMs: number },
  metrics: GatewayMetrics,
  reject: Reject,
): RateLimits {
  const redis = connectRedisCluster(ctx.config, { log: ctx.log, commandTimeoutMs: options.timeoutMs });
  const counters = new RedisRateLimiter(redis, options.keyPrefix, options.timeoutMs);
  ctx.shutdown.onClose('redis', () => {
    counters.close();
    return redis.quit().catch(() => redis.disconnect());
  });
  return new RateLimits(counters, metrics, ctx.log, reject);
}
