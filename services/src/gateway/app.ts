/**
 * The API gateway, wired: each request is checked against the IP rules, routed (routing.ts),
 * authenticated (auth.ts), counted against the rate limits (limits.ts) and forwarded (proxy.ts),
 * under dynamic settings from etcd (settings.ts), with metrics of its own (metrics.ts).
 */
import cors from '@fastify/cors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  JwtVerifier, REQUEST_ID_HEADER, createService, dropReservedHeaders, loadConfig, loadKitConfig, type Service, type ServiceContext, type ServiceDefinition,
} from '../kit';
import { GatewayAuth } from './auth';
import { gatewayEnv, gatewayRules, gatewaySpec } from './env';
import { createRateLimits } from './limits';
import { GatewayMetrics, rejecter, upstreamAttempts, type BreakerState } from './metrics';
import { UpstreamProxy, acceptRawBodies } from './proxy';
import { Router } from './routing';
import { DEFAULT_SETTINGS, liveSettings } from './settings';

export { gatewaySpec };
export { edgeCacheControl } from './proxy';

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
    client: (metrics) => ({
      breaker: {
        resetTimeoutMs: config.BREAKER_RESET_MS,
        volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
        errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
      },
      connectionsPerInstance: 128,
      onAttempt: kit.REQUEST_METRICS ? upstreamAttempts(metrics.registry) : undefined,
    }),
    ...extra,
    async routes(app, ctx) {
      const { registry, log } = ctx;
      const metrics = new GatewayMetrics(ctx.metrics.registry, () => breakerStates(ctx));
      const reject = rejecter(metrics);
      const settings = liveSettings({
        defaults: { ...DEFAULT_SETTINGS, failMode: config.RATE_LIMIT_FAIL_MODE },
        read: (key) => registry?.config(config.GATEWAY_NAME, key),
        onReload: ({ settings: applied, errors }) => {
          metrics.reloads.inc({ result: errors.length ? 'rejected' : 'applied' });
          if (errors.length) log.error({ errors }, 'gateway settings rejected; keeping the previous ones');
          else log.info({ settings: applied }, 'gateway settings applied');
        },
      });
      registry?.on('config', (service: string) => {
        if (service === config.GATEWAY_NAME) settings.reload();
      });
      const limits = config.RATE_LIMIT_ENABLED
        ? createRateLimits(ctx, { keyPrefix: config.RATE_LIMIT_KEY_PREFIX, timeoutMs: config.RATE_LIMIT_TIMEOUT_MS }, metrics, reject)
        : undefined;
      const auth = new GatewayAuth(verifier, limits, reject);
      const router = new Router(config.GATEWAY_NAME, registry);
      const proxy = new UpstreamProxy(ctx.client, reject, config.BREAKER_RESET_MS);

      if (config.CORS_ORIGINS.length) {
        await app.register(cors, {
          origin: config.CORS_ORIGINS.includes('*') ? true : config.CORS_ORIGINS,
          credentials: true,
          maxAge: 600,
          exposedHeaders: [REQUEST_ID_HEADER, 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
        });
      }
      acceptRawBodies(app, config.VALIDATE_JSON);

      // Clients may not assert an identity: every x-user-* / x-auth-* header is dropped on arrival.
      app.addHook('onRequest', (req, _reply, done) => {
        dropReservedHeaders(req.headers);
        done();
      });
      if (kit.REQUEST_METRICS) {
        app.addHook('onResponse', (req, reply, done) => {
          metrics.observe(req, reply);
          done();
        });
      }

      const handle = async (req: FastifyRequest, reply: FastifyReply) => {
        const s = settings.current();
        const q = req.url.indexOf('?');
        const pathname = q === -1 ? req.url : req.url.slice(0, q);
        const search = q === -1 ? '' : req.url.slice(q);

        if (s.checkIp(req.ip) !== 'allow') return reject(req, reply, 403, 'forbidden', 'Requests from your address are not allowed');
        const target = router.resolve(s, pathname);
        if (!target) return reject(req, reply, 404, 'not_found', 'No API route for this path');
        req.accessLog = { route: target.route, service: target.service };

        const who = await auth.identify(req, reply, s, pathname);
        if ('answered' in who) return who.answered;
        const { identity } = who;
        if (identity) req.accessLog.user = identity.userId;

        const limited = await limits?.admit(req, reply, s, pathname, identity);
        if (limited) return limited;
        return proxy.forward(req, reply, target, search, identity);
      };
      const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
      app.route({ method: methods, url: '/api/*', exposeHeadRoute: false, handler: handle });
      app.route({ method: methods, url: '/api', exposeHeadRoute: false, handler: handle });
    },
  });
}

/** Each upstream's circuit state, for the breaker gauge. */
function breakerStates(ctx: ServiceContext): Array<[string, BreakerState]> {
  return (ctx.registry?.services() ?? []).map((service) => [service, ctx.client.breakerState(service)]);
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
