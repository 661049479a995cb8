import cors from '@fastify/cors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  BreakerOpenError, Counter, Gauge, Histogram, LATENCY_BUCKETS, NoInstanceError, REQUEST_ID_HEADER,
  connectRedisCluster, createService, identityHeaders, isReservedHeader, loadConfig, loadKitConfig, neverReached,
  type Identity, type Service, type ServiceDefinition,
} from '../kit';
import { AuthError, JwtVerifier } from './auth';
import { gatewayEnv, gatewayRules, gatewaySpec } from './env';
import { RedisRateLimiter, type LimitDecision, type LimitHit } from './rate-limit';
import {
  DEFAULT_SETTINGS, SETTING_KEYS, compileSettings, parseSettings, type CompiledSettings, type GatewaySettings, type SettingKey,
} from './settings';

export { gatewaySpec };

/** Upstream bodies up to this size (with a content-length) are read whole before answering. */
const BUFFERED_BODY_LIMIT = 64 * 1024;

/**
 * Cache-Control for what CloudFront may cache (it caches /api/* for 10 s when the origin says
 * nothing): a response that sets a cookie is never stored, and one answered for a caller with
 * credentials is private unless the service said otherwise. Undefined keeps the upstream's header.
 */
export function edgeCacheControl(
  response: Record<string, string | string[] | undefined>,
  request: Record<string, string | string[] | undefined>,
): string | undefined {
  if (response['set-cookie'] !== undefined) return 'private, no-store';
  if (response['cache-control'] === undefined && (request.authorization !== undefined || request.cookie !== undefined)) return 'private, no-store';
  return undefined;
}

/** Hop-by-hop and framing headers never copied from an upstream response. */
const RESPONSE_SKIP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer', 'te']);

interface RouteTarget {
  readonly service: string;
  readonly path: string;
  readonly route: string;
  readonly prefix: string;
}

/**
 * Creates the gateway (not started). `source` is the environment (default process.env); `extra`
 * passes test hooks (log destination) through to {@link createService}.
 */
export async function createGateway(source: NodeJS.ProcessEnv = process.env, extra: Partial<ServiceDefinition> = {}): Promise<Service> {
  // Every variable at once (one error naming each bad one), then the kit's view of them.
  const config = loadConfig(gatewayEnv, source, gatewayRules);
  const kit = loadKitConfig(source);
  const verifier = await JwtVerifier.create({
    jwksUrl: config.JWT_JWKS_URL,
    publicKey: config.JWT_PUBLIC_KEY,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    algorithms: config.JWT_ALGORITHMS,
  });

  return createService({
    name: config.GATEWAY_NAME,
    config: kit,
    watchConfig: true,
    // CLIENT_TIMEOUT_MS bounds each request's upstream call as a whole (the kit's client deadline).
    requestBudget: false,
    fastify: { trustProxy: parseTrustProxy(config.TRUST_PROXY) },
    client: {
      breaker: {
        resetTimeoutMs: config.BREAKER_RESET_MS,
        volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
        errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
      },
      connectionsPerInstance: 128,
      onAttempt: (e) => {
        upstream.attempts.inc({ upstream: e.service, outcome: e.outcome });
        upstream.duration.observe({ upstream: e.service }, e.durationMs / 1000);
      },
    },
    ...extra,
    async routes(app, ctx) {
      const { registry, client, log, metrics } = ctx;
      const reg = metrics.registry;
      const requests = new Counter({ name: 'gateway_requests_total', help: 'API requests by route, upstream service and status.', labelNames: ['route', 'upstream', 'status'] as const, registers: [reg] });
      const latency = new Histogram({ name: 'gateway_request_duration_seconds', help: 'API request latency through the gateway.', labelNames: ['route', 'upstream'] as const, buckets: LATENCY_BUCKETS, registers: [reg] });
      const rejections = new Counter({ name: 'gateway_rejections_total', help: 'Requests the gateway answered itself, by reason.', labelNames: ['reason'] as const, registers: [reg] });
      const limiterErrors = new Counter({ name: 'gateway_ratelimit_redis_errors_total', help: 'Rate-limit checks that failed on Redis, by fail mode applied.', labelNames: ['mode'] as const, registers: [reg] });
      const reloads = new Counter({ name: 'gateway_config_reloads_total', help: 'Dynamic config reloads by result.', labelNames: ['result'] as const, registers: [reg] });
      upstream.attempts = new Counter({ name: 'gateway_upstream_attempts_total', help: 'Attempts to upstream instances by service and outcome.', labelNames: ['upstream', 'outcome'] as const, registers: [reg] });
      upstream.duration = new Histogram({ name: 'gateway_upstream_duration_seconds', help: 'Upstream attempt latency by service.', labelNames: ['upstream'] as const, buckets: LATENCY_BUCKETS, registers: [reg] });
      new Gauge({
        name: 'gateway_breaker_state',
        help: 'Upstream circuit state: 0 closed, 1 half-open, 2 open.',
        labelNames: ['upstream'] as const,
        registers: [reg],
        collect() {
          for (const service of registry?.services() ?? []) {
            const state = client.breakerState(service);
            this.set({ upstream: service }, state === 'open' ? 2 : state === 'half-open' ? 1 : 0);
          }
        },
      });

      // Dynamic settings: compiled once per change, read by reference on the request path.
      const defaults: GatewaySettings = { ...DEFAULT_SETTINGS, failMode: config.RATE_LIMIT_FAIL_MODE };
      let settings: CompiledSettings = compileSettings(defaults);
      const reload = (): void => {
        const raw: Partial<Record<SettingKey, string>> = {};
        for (const key of SETTING_KEYS) raw[key] = registry?.config(config.GATEWAY_NAME, key);
        const { settings: parsed, errors } = parseSettings(raw, settings.source, defaults);
        settings = compileSettings(parsed);
        reloads.inc({ result: errors.length ? 'rejected' : 'applied' });
        if (errors.length) log.error({ errors }, 'gateway settings rejected; keeping the previous ones');
        else log.info({ settings: parsed }, 'gateway settings applied');
      };
      reload();
      registry?.on('config', (service: string) => {
        if (service === config.GATEWAY_NAME) reload();
      });

      let limiter: RedisRateLimiter | undefined;
      if (config.RATE_LIMIT_ENABLED) {
        const redis = connectRedisCluster(kit, { log, commandTimeoutMs: config.RATE_LIMIT_TIMEOUT_MS });
        limiter = new RedisRateLimiter(redis, config.RATE_LIMIT_KEY_PREFIX, config.RATE_LIMIT_TIMEOUT_MS);
        ctx.shutdown.onClose('redis', () => redis.quit().catch(() => redis.disconnect()));
      }
      let lastFailOpenWarning = 0;

      if (config.CORS_ORIGINS.length) {
        await app.register(cors, {
          origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS,
          credentials: true,
          maxAge: 600,
          exposedHeaders: [REQUEST_ID_HEADER, 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
        });
      }

      // The body stays raw (it is forwarded as is, and kept for a retry); JSON is only checked.
      app.removeAllContentTypeParsers();
      app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
        const buf = body as Buffer;
        if (config.VALIDATE_JSON && buf.length > 0 && /\bjson\b/i.test(req.headers['content-type'] ?? '')) {
          try {
            JSON.parse(buf.toString('utf8'));
          } catch {
            const err = Object.assign(new Error('The request body is not valid JSON'), { statusCode: 400, code: 'malformed_json' });
            done(err, undefined);
            return;
          }
        }
        done(null, buf);
      });

      // Clients may not assert an identity: every x-user-* / x-auth-* header is dropped on arrival.
      app.addHook('onRequest', (req, _reply, done) => {
        for (const name of Object.keys(req.headers)) if (isReservedHeader(name)) delete req.headers[name];
        done();
      });

      app.addHook('onResponse', (req, reply, done) => {
        const a = req.accessLog;
        if (a?.route) {
          requests.inc({ route: a.route as string, upstream: (a.service as string) ?? '-', status: String(reply.statusCode) });
          latency.observe({ route: a.route as string, upstream: (a.service as string) ?? '-' }, reply.elapsedTime / 1000);
        }
        done();
      });

      const reject = (req: FastifyRequest, reply: FastifyReply, status: number, reason: string, message: string, extraBody: object = {}) => {
        rejections.inc({ reason });
        req.accessLog = { ...req.accessLog, rejected: reason };
        return reply.code(status).send({ error: reason, message, requestId: req.id, ...extraBody });
      };

      // Services ever registered: one whose instances are all gone answers 503, not 404.
      const known = new Set(registry?.services() ?? []);
      registry?.on('change', (service: string) => {
        if (known.size < 10_000) known.add(service);
      });

      const resolve = (s: CompiledSettings, pathname: string): RouteTarget | undefined => {
        for (const r of s.routes) {
          if (pathname === r.prefix || pathname.startsWith(`${r.prefix}/`)) {
            const rest = pathname.slice(r.prefix.length);
            return { service: r.service, path: joinPath(r.rewrite, rest), route: r.prefix, prefix: r.prefix };
          }
        }
        if (!s.source.autoRoutes) return undefined;
        const m = /^\/api\/([a-z0-9-]+)(\/.*)?$/.exec(pathname);
        if (!m || m[1] === config.GATEWAY_NAME || m[1].startsWith('gateway') || !known.has(m[1])) return undefined;
        return { service: m[1], path: m[2] ?? '/', route: `/api/${m[1]}`, prefix: `/api/${m[1]}` };
      };

      const limitHits = (s: CompiledSettings, method: string, pathname: string, ip: string, identity?: Identity): LimitHit[] => {
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
      };

      const setLimitHeaders = (reply: FastifyReply, d: LimitDecision): void => {
        reply.header('ratelimit-limit', d.limit);
        reply.header('ratelimit-remaining', d.remaining);
        reply.header('ratelimit-reset', d.resetSeconds);
        reply.header('ratelimit-policy', `${d.limit};w=${d.windowSeconds}`);
      };

      const proxy = async (req: FastifyRequest, reply: FastifyReply) => {
        const s = settings;
        const q = req.url.indexOf('?');
        const pathname = q === -1 ? req.url : req.url.slice(0, q);
        const search = q === -1 ? '' : req.url.slice(q);

        const ipVerdict = s.checkIp(req.ip);
        if (ipVerdict !== 'allow') return reject(req, reply, 403, 'forbidden', 'Requests from your address are not allowed');

        const target = resolve(s, pathname);
        if (!target) return reject(req, reply, 404, 'not_found', 'No API route for this path');
        req.accessLog = { route: target.route, service: target.service };

        let identity: Identity | undefined;
        const authorization = req.headers.authorization;
        if (!s.isPublic(req.method, pathname)) {
          try {
            identity = await verifier.verify(authorization);
          } catch (err) {
            if (!(err instanceof AuthError)) throw err;
            // Rejected requests still count against the client's IP, so guessing tokens is limited too.
            const ipRule = s.source.rateLimits.ip;
            if (limiter && ipRule) {
              const d = await limiter.hit([{ key: `ip:${req.ip}`, rule: ipRule }]).catch(() => undefined);
              if (d && !d.allowed) {
                setLimitHeaders(reply, d);
                reply.header('retry-after', d.resetSeconds);
                return reject(req, reply, 429, 'rate_limited', `Too many requests. Retry in ${d.resetSeconds} s.`, { retryAfter: d.resetSeconds });
              }
            }
            const description = err.message.replace(/["\\]/g, "'");
            reply.header('www-authenticate', `Bearer error="${err.reason === 'missing_token' ? 'invalid_request' : 'invalid_token'}", error_description="${description}"`);
            return reject(req, reply, 401, err.reason, err.message);
          }
        } else if (authorization) {
          // A public route serves anonymous callers too: a bad token is simply not an identity.
          identity = await verifier.verify(authorization).catch(() => undefined);
        }
        if (identity) req.accessLog.user = identity.userId;

        if (limiter) {
          let decision: LimitDecision | undefined;
          try {
            decision = await limiter.hit(limitHits(s, req.method, pathname, req.ip, identity));
          } catch (err) {
            limiterErrors.inc({ mode: s.source.failMode });
            if (Date.now() - lastFailOpenWarning > 5000) {
              lastFailOpenWarning = Date.now();
              log.warn({ err: (err as Error).message, mode: s.source.failMode }, 'rate limiter unavailable');
            }
            if (s.source.failMode === 'closed') {
              return reject(req, reply, 503, 'rate_limiter_unavailable', 'The service is temporarily unavailable. Please retry shortly.');
            }
          }
          if (decision) {
            setLimitHeaders(reply, decision);
            if (!decision.allowed) {
              reply.header('retry-after', decision.resetSeconds);
              return reject(req, reply, 429, 'rate_limited', `Too many requests. Retry in ${decision.resetSeconds} s.`, { retryAfter: decision.resetSeconds });
            }
          }
        }

        const headers: Record<string, string | string[] | undefined> = { ...req.headers };
        const forwardedFor = req.headers['x-forwarded-for'];
        const peer = req.socket.remoteAddress ?? '';
        headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${peer}` : peer;
        headers['x-forwarded-proto'] = req.protocol;
        headers['x-forwarded-host'] = req.headers['x-forwarded-host'] ?? req.host;
        headers['x-forwarded-prefix'] = target.prefix;
        headers[REQUEST_ID_HEADER] = req.id;
        if (identity) Object.assign(headers, identityHeaders(identity));

        try {
          const res = await client.request(target.service, {
            method: req.method,
            path: target.path + search,
            headers,
            body: req.body as Buffer | undefined,
          });
          req.accessLog.instance = res.instance?.id;
          if (res.attempts > 1) req.accessLog.attempts = res.attempts;
          reply.code(res.statusCode);
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined && !RESPONSE_SKIP.has(name)) reply.header(name, value);
          }
          const cacheControl = edgeCacheControl(res.headers, req.headers);
          if (cacheControl) reply.header('cache-control', cacheControl);
          reply.header(REQUEST_ID_HEADER, req.id);
          if (req.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) {
            await res.body.dump();
            return reply.send();
          }
          // Small bodies go out in one write with their length; large or unsized ones stream.
          const length = Number(res.headers['content-length']);
          if (length >= 0 && length <= BUFFERED_BODY_LIMIT) return reply.send(Buffer.from(await res.body.arrayBuffer()));
          return reply.send(res.body);
        } catch (err) {
          return upstreamFailure(req, reply, target.service, err as Error & { code?: string });
        }
      };

      const upstreamFailure = (req: FastifyRequest, reply: FastifyReply, service: string, err: Error & { code?: string }) => {
        req.accessLog = { ...req.accessLog, upstreamError: err.code ?? err.name };
        if (err instanceof BreakerOpenError || err instanceof NoInstanceError) {
          const retryAfter = Math.ceil(config.BREAKER_RESET_MS / 1000);
          reply.header('retry-after', retryAfter);
          return reject(req, reply, 503, 'service_unavailable', `The ${service} service is temporarily unavailable. Please retry in a few seconds.`, { service, retryAfter });
        }
        if (neverReached(err)) {
          // Every instance tried refused or could not be connected to: nothing was sent anywhere.
          reply.header('retry-after', 1);
          return reject(req, reply, 503, 'service_unavailable', `The ${service} service is temporarily unavailable. Please retry in a few seconds.`, { service, retryAfter: 1 });
        }
        if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
          return reject(req, reply, 504, 'upstream_timeout', `The ${service} service did not answer in time.`, { service });
        }
        req.log.warn({ err: err.message, service }, 'upstream request failed');
        return reject(req, reply, 502, 'bad_gateway', `The ${service} service could not be reached.`, { service });
      };

      app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/api/*', exposeHeadRoute: false, handler: proxy });
      app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url: '/api', exposeHeadRoute: false, handler: proxy });
    },
  });
}

// Filled in routes(); the client's onAttempt hook is created before the metrics registry exists.
const upstream: { attempts: Counter<'upstream' | 'outcome'>; duration: Histogram<'upstream'> } = {
  attempts: new Counter({ name: 'unused_attempts', help: 'replaced', labelNames: ['upstream', 'outcome'] as const, registers: [] }),
  duration: new Histogram({ name: 'unused_duration', help: 'replaced', labelNames: ['upstream'] as const, registers: [] }),
};

function joinPath(base: string, rest: string): string {
  if (!rest || rest === '/') return base;
  return base.endsWith('/') ? base + rest.slice(1) : base + rest;
}

function parseTrustProxy(v: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (v === 'true') return true;
  if (v === 'false' || v === '') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return (_address, hop) => hop < hops;
  }
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
