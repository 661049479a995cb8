import { Readable } from 'node:stream';
import { createService, env, loadConfig, readIdentity, type Service, type ServiceDefinition } from '../kit';

/** Echo's own variables (besides the kit's). */
export const echoSpec = {
  /** Registry name (tests run several echo services side by side). */
  ECHO_NAME: env.string({ default: 'echo' }),
  /** Non-zero: answer this status to everything but the probes. */
  ECHO_FAIL_STATUS: env.int({ default: 0, min: 0, max: 599 }),
};

/** Injected failure: while `status` is non-zero, every route but the probes answers it. */
export interface EchoFaults {
  status: number;
}

/**
 * A minimal service: echoes what it received. The gateway's tests and benchmark route to it, and it
 * is the smallest example of a kit service. `ECHO_FAIL_STATUS` (or the `injected` faults) makes it answer that
 * status to everything but probes (fault tests).
 */
export async function createEcho(overrides: Partial<ServiceDefinition> = {}, injected?: EchoFaults): Promise<Service> {
  const cfg = loadConfig(echoSpec);
  const faults = injected ?? { status: cfg.ECHO_FAIL_STATUS };
  return createService({
    name: cfg.ECHO_NAME,
    routes(app, ctx) {
      const respond = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
        if (faults.status) return reply.code(faults.status).send({ error: 'injected_failure', instance: ctx.instanceId });
        const query = req.query as Record<string, string>;
        const delay = Number(query.delay ?? 0);
        if (delay > 0) await new Promise((r) => setTimeout(r, Math.min(delay, 30_000)));
        const bytes = Math.min(Number(query.bytes ?? 0), 64 * 1024 * 1024);
        // `?bytes=N`: N bytes streamed without a content-length (chunked), for proxy tests.
        if (bytes > 0) return reply.type('application/octet-stream').send(Readable.from(chunks(bytes)));
        return {
          instance: ctx.instanceId,
          method: req.method,
          url: req.url,
          requestId: req.id,
          identity: readIdentity(req.headers) ?? null,
          headers: req.headers,
          body: req.body ?? null,
        };
      };
      app.get('/ping', async () => 'pong');
      app.all('/*', respond);
    },
    ...overrides,
  });
}

function* chunks(total: number): Generator<Buffer> {
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, total - sent));
}

export async function start(): Promise<void> {
  const svc = await createEcho();
  svc.handleSignals();
  await svc.start();
}
