/**
 * The platform's error answers, written once: every layer (kit, gateway, services) sends
 * `{ error, message, ...extra, requestId }` with the same id in `x-request-id`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readIdentity } from './identity';
import { DEPENDENCY_UNAVAILABLE_HEADER } from './service-client';

/** The error body: a stable `error` name, a message for people, and the request id (last, so `extra` cannot replace it). */
export function errorPayload(error: string, message: string, requestId: string, extra?: object): Record<string, unknown> {
  return { error, message, ...extra, requestId };
}

/** Answers `status` with the platform's error body for this request. */
export function replyError(reply: FastifyReply, status: number, error: string, message: string, extra?: object): FastifyReply {
  return reply.code(status).send(errorPayload(error, message, reply.request.id, extra));
}

/** 401 `unauthorized`: the route needs a signed-in user and the request carries no identity. */
export function replyLoginRequired(reply: FastifyReply): FastifyReply {
  return replyError(reply, 401, 'unauthorized', 'Log in first');
}

/**
 * 503 `service_unavailable` + `Retry-After` + `x-dependency-unavailable`: a dependency shared by
 * every instance (database, Redis, the verification keys) is down, not this instance, so the
 * gateway passes the answer on as it is instead of retrying it elsewhere.
 */
export function replyDependencyUnavailable(
  reply: FastifyReply,
  dependency: string,
  message = `The ${dependency} is unavailable right now. Please try again in a moment.`,
): FastifyReply {
  return replyError(
    reply.header('retry-after', '2').header(DEPENDENCY_UNAVAILABLE_HEADER, dependency.replace(/[^a-z0-9 -]/gi, '')),
    503,
    'service_unavailable',
    message,
  );
}

/**
 * The signed-in user's id (the user service issues numeric subjects), or undefined once a 401
 * `Log in first` has been sent: `const userId = requireUserId(req, reply); if (userId === undefined) return reply;`
 */
export function requireUserId(req: FastifyRequest, reply: FastifyReply): number | undefined {
  const id = Number(readIdentity(req.headers)?.userId);
  if (Number.isSafeInteger(id) && id > 0) return id;
  void replyLoginRequired(reply);
  return undefined;
}
