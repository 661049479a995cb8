import { createRemoteJWKSet, importJWK, importSPKI, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey, type KeyLike } from 'jose';
import type { Identity } from '../kit';

/** Where verification keys come from (exactly one). */
export interface JwtSettings {
  /** JWKS URL (identity provider or the user service's `/.well-known/jwks.json`). */
  readonly jwksUrl?: string;
  /** A public key: PEM (SPKI) or a JWK as JSON. */
  readonly publicKey?: string;
  /** Expected `iss`. @default not checked */
  readonly issuer?: string;
  /** Expected `aud` (any of). @default not checked */
  readonly audience?: readonly string[];
  /** Accepted algorithms; `none` can never be among them. @default ['RS256', 'ES256', 'EdDSA'] */
  readonly algorithms?: readonly string[];
  /** Clock skew allowed on exp/nbf, seconds. @default 5 */
  readonly clockToleranceSeconds?: number;
}

/** Why a request was rejected: the `error` of the 401 body and a metric label. */
export type AuthFailure = 'missing_token' | 'invalid_token' | 'token_expired' | 'invalid_claims' | 'unsupported_scheme';

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies bearer tokens with jose. Verified tokens are cached (bounded, at most 60 s and never
 * past `exp`), so a client reusing its token costs one signature check a minute, not one per request.
 */
export class JwtVerifier {
  private readonly cache = new Map<string, { identity: Identity; until: number }>();
  private readonly algorithms: string[];

  private constructor(
    private readonly key: KeyLike | Uint8Array | JWTVerifyGetKey,
    private readonly settings: JwtSettings,
  ) {
    this.algorithms = [...(settings.algorithms ?? ['RS256', 'ES256', 'EdDSA'])].filter((a) => a.toLowerCase() !== 'none');
  }

  static async create(settings: JwtSettings): Promise<JwtVerifier> {
    if (!!settings.jwksUrl === !!settings.publicKey) throw new Error('set exactly one of JWT_JWKS_URL and JWT_PUBLIC_KEY');
    const algorithms = settings.algorithms ?? ['RS256', 'ES256', 'EdDSA'];
    let key: KeyLike | Uint8Array | JWTVerifyGetKey;
    if (settings.jwksUrl) {
      key = createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    } else if (settings.publicKey!.trim().startsWith('{')) {
      const jwk = JSON.parse(settings.publicKey!) as JWK;
      key = await importJWK(jwk, jwk.alg ?? algorithms[0]);
    } else {
      key = await importSPKI(settings.publicKey!, algorithms[0]);
    }
    return new JwtVerifier(key, settings);
  }

  /** Checks the `authorization` header; resolves the identity or throws {@link AuthError}. */
  async verify(authorization: string | undefined): Promise<Identity> {
    if (!authorization) throw new AuthError('missing_token', 'Authorization header with a Bearer token is required');
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
    if (!m) {
      if (!/^Bearer\s/i.test(authorization)) throw new AuthError('unsupported_scheme', 'Only Bearer tokens are accepted');
      throw new AuthError('invalid_token', 'The bearer token is not a JWT');
    }
    const token = m[1];
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.identity;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as KeyLike, {
        issuer: this.settings.issuer,
        audience: this.settings.audience ? [...this.settings.audience] : undefined,
        algorithms: this.algorithms,
        clockTolerance: this.settings.clockToleranceSeconds ?? 5,
      }));
    } catch (err) {
      throw toAuthError(err as Error & { code?: string; claim?: string });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError('invalid_claims', 'The token has no subject');
    const identity = identityOf(payload);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(token, { identity, until: Math.min(now + 60_000, (payload.exp ?? Infinity) * 1000) });
    return identity;
  }
}

function identityOf(p: JWTPayload): Identity {
  const roles = Array.isArray(p.roles) ? p.roles.map(String) : typeof p.roles === 'string' ? p.roles.split(/[\s,]+/) : [];
  const scope = typeof p.scope === 'string' ? p.scope : Array.isArray(p.scp) ? p.scp.join(' ') : typeof p.scp === 'string' ? p.scp : '';
  return {
    userId: p.sub!,
    roles: roles.filter(Boolean),
    scopes: scope.split(' ').filter(Boolean),
    email: typeof p.email === 'string' ? p.email : undefined,
    issuer: p.iss,
  };
}

function toAuthError(err: Error & { code?: string; claim?: string }): AuthError {
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return new AuthError('token_expired', 'The token has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return new AuthError('invalid_claims', `The token's "${err.claim ?? 'claims'}" claim is not accepted`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new AuthError('invalid_token', 'The token is signed with an algorithm that is not accepted');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new AuthError('invalid_token', 'The token signature is not valid');
    default:
      return new AuthError('invalid_token', 'The token could not be verified');
  }
}
