/**
 * Who is calling: the bearer token checked with the kit's verifier (src/kit/jwt.ts, which the
 * services use too). A protected path needs a valid token (401 + WWW-Authenticate otherwise); a
 * public path serves anonymous callers, and a token that does not verify there is no identity.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, type Identity, type TokenVerifier } from '../kit';
import type { RateLimits } from './limits';
import type { Reject } from './metrics';
import type { CompiledSettings } from './settings';

/** The caller's identity (undefined: anonymous), or the answer already sent. */
export type AuthOutcome = { readonly identity: Identity | undefined } | { readonly answered: FastifyReply };

export class GatewayAuth {
  /** @param limits counts refused requests against the client's IP (undefined: limits off) */
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly limits: RateLimits | undefined,
    private readonly reject: Reject,
  ) {}

  async identify(req: FastifyRequest, reply: FastifyReply, s: CompiledSettings, pathname: string): Promise<AuthOutcome> {
    const authorization = req.headers.authorization;
    if (s.isPublic(req.method, pathname)) {
      if (!authorization) return { identity: undefined };
      return { identity: await this.verifier.verify(authorization).catch(() => undefined) };
    }
    try {
      return { identity: await this.verifier.verify(authorization) };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      // Refused requests still count against the client's IP, so guessing tokens is limited too.
      const limited = await this.limits?.countRefused(req, reply, s);
      if (limited) return { answered: limited };
      const description = err.message.replace(/["\\]/g, "'");
      reply.header('www-authenticate', `Bearer error="${err.reason === 'missing_token' ? 'invalid_request' : 'invalid_token'}", error_description="${description}"`);
      return { answered: this.reject(req, reply, 401, err.reason, err.message) };
    }
  }
}
