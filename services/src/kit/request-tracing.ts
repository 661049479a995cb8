/**
 * Server spans for a kit service's requests (only installed when tracing is on): the trace
 * continues from the caller's `traceparent` or starts here, the span is active for the hooks and the
 * handler (so client, data store spans and log lines nest under it), and ends with the response,
 * named after the matched route and carrying the request id (an X-Ray annotation, see the collector).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TraceSpan, Tracing } from './tracing';

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's server span (undefined with tracing off, and for the probe and metrics paths). */
    span: TraceSpan | null;
  }
}

/** Paths kubelet and the scraper poll: never a trace. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/** The request's span, or none. */
export const spanOf = (req: FastifyRequest): TraceSpan | undefined => req.span ?? undefined;

/** Adds the hooks that open, activate and close each request's server span. */
export function traceRequests(app: FastifyInstance, tr: Tracing): void {
  app.decorateRequest('span', null);
  app.addHook('onRequest', (req, _reply, done) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (UNTRACED.has(path)) return done();
    const span = tr.startSpan(req.method, {
      kind: 'server',
      parent: req.headers,
      attributes: { 'http.request.method': req.method, 'url.path': path, request_id: req.id, 'client.address': req.ip },
    });
    req.span = span;
    // The rest of the hooks run from here, inside the span's context.
    tr.withSpan(span, done);
  });
  // Body parsing continues from stream events, outside any context: enter it again for the handler.
  app.addHook('preHandler', (req, _reply, done) => (req.span ? tr.withSpan(req.span, done) : done()));
  app.addHook('onError', (req, _reply, err, done) => {
    req.span?.fail(err);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = req.span;
    if (span) {
      const route = req.routeOptions.url;
      if (route) {
        span.rename(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.fail();
      span.end();
    }
    done();
  });
}
