/**
 * Forwarding a routed request to its service with the kit's client (balancing, breakers, retries,
 * the CLIENT_TIMEOUT_MS bound) and copying the answer back, or mapping the failure to the
 * gateway's own 502 / 503 / 504.
 */
import type { FastifyReply, FastifyRequest, FastifyInstance } from 'fastify';
import {
  BreakerOpenError, NoInstanceError, REQUEST_ID_HEADER, identityHeaders, neverReached, type Identity, type ServiceClient,
} from '../kit';
import type { Reject } from './metrics';
import type { RouteTarget } from './routing';

/** Upstream bodies up to this size (with a content-length) are read whole before answering. */
const BUFFERED_BODY_LIMIT = 64 * 1024;

/** Hop-by-hop and framing headers never copied from an upstream response. */
const RESPONSE_SKIP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer', 'te']);

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

/**
 * Request bodies stay raw (forwarded as they came, and kept for a retry); with `validateJson` a
 * body that says it is JSON and does not parse is a 400 `malformed_json`, never forwarded.
 */
export function acceptRawBodies(app: FastifyInstance, validateJson: boolean): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    if (validateJson && buf.length > 0 && /\bjson\b/i.test(req.headers['content-type'] ?? '')) {
      try {
        JSON.parse(buf.toString('utf8'));
      } catch {
        done(Object.assign(new Error('The request body is not valid JSON'), { statusCode: 400, code: 'malformed_json' }), undefined);
        return;
      }
    }
    done(null, buf);
  });
}

/**
 * What the service receives: the client's headers (every `x-user-*` / `x-auth-*` already dropped on
 * arrival), the forwarding chain, the request id, and the identity the gateway verified.
 */
export function forwardedHeaders(
  req: FastifyRequest,
  target: RouteTarget,
  identity?: Identity,
  identityAsHeaders: (identity: Identity) => Record<string, string> = identityHeaders,
): Record<string, string | string[] | undefined> {
  const headers: Record<string, string | string[] | undefined> = { ...req.headers };
  const forwardedFor = req.headers['x-forwarded-for'];
  const peer = req.socket.remoteAddress ?? '';
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${peer}` : peer;
  headers['x-forwarded-proto'] = req.protocol;
  headers['x-forwarded-host'] = req.headers['x-forwarded-host'] ?? req.host;
  headers['x-forwarded-prefix'] = target.prefix;
  headers[REQUEST_ID_HEADER] = req.id;
  if (identity) Object.assign(headers, identityAsHeaders(identity));
  return headers;
}

/** Sends routed requests on and their answers back. */
export class UpstreamProxy {
  // Verified identities are cached objects (the verifier's token cache): their headers are built once.
  private readonly identityHeaders = new WeakMap<Identity, Record<string, string>>();
  private readonly headersOf = (identity: Identity): Record<string, string> => {
    let headers = this.identityHeaders.get(identity);
    if (!headers) {
      headers = identityHeaders(identity);
      this.identityHeaders.set(identity, headers);
    }
    return headers;
  };

  /** @param breakerResetMs how long a 503 for open breakers asks the client to wait (Retry-After) */
  constructor(
    private readonly client: ServiceClient,
    private readonly reject: Reject,
    private readonly breakerResetMs: number,
  ) {}

  /** `search` is the query string with its `?` (or empty). */
  async forward(req: FastifyRequest, reply: FastifyReply, target: RouteTarget, search: string, identity?: Identity): Promise<FastifyReply> {
    try {
      const res = await this.client.request(target.service, {
        method: req.method,
        path: target.path + search,
        headers: forwardedHeaders(req, target, identity, this.headersOf),
        body: req.body as Buffer | undefined,
      });
      req.accessLog!.instance = res.instance?.id;
      if (res.attempts > 1) req.accessLog!.attempts = res.attempts;
      reply.code(res.statusCode);
      const headers = res.headers;
      for (const name in headers) {
        const value = headers[name];
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
      if (length >= 0 && length <= BUFFERED_BODY_LIMIT) return reply.send(await res.body.bytes());
      return reply.send(res.body.stream());
    } catch (err) {
      return this.failed(req, reply, target.service, err as Error & { code?: string });
    }
  }

  /** The gateway's answer when no instance answered: 503 (nothing was sent anywhere), 504, or 502. */
  private failed(req: FastifyRequest, reply: FastifyReply, service: string, err: Error & { code?: string }): FastifyReply {
    req.accessLog = { ...req.accessLog, upstreamError: err.code ?? err.name };
    const unavailable = `The ${service} service is temporarily unavailable. Please retry in a few seconds.`;
    if (err instanceof BreakerOpenError || err instanceof NoInstanceError) {
      const retryAfter = Math.ceil(this.breakerResetMs / 1000);
      reply.header('retry-after', retryAfter);
      return this.reject(req, reply, 503, 'service_unavailable', unavailable, { service, retryAfter });
    }
    if (neverReached(err)) {
      // Every instance tried refused or could not be connected to: nothing was sent anywhere.
      reply.header('retry-after', 1);
      return this.reject(req, reply, 503, 'service_unavailable', unavailable, { service, retryAfter: 1 });
    }
    if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
      return this.reject(req, reply, 504, 'upstream_timeout', `The ${service} service did not answer in time.`, { service });
    }
    req.log.warn({ err: err.message, service }, 'upstream request failed');
    return this.reject(req, reply, 502, 'bad_gateway', `The ${service} service could not be reached.`, { service });
  }
}
