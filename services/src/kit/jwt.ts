/**
 * Bearer token verification, shared by the gateway and the services behind it (which verify the
 * token the gateway forwards themselves, so a forged identity header reaching them directly counts
 * for nothing).
 */
import {
  createLocalJWKSet, createRemoteJWKSet, importJWK, importSPKI, jwtVerify,
  type JWK, type JWTPayload, type JWTVerifyGetKey, type KeyLike,
} from 'jose';
import type { Identity } from './identity';

/** Where verification keys come from (exactly one), and what the token must say. */
export interface JwtSettings {
  /** JWKS URL (identity provider or the user service's `/.well-known/jwks.json`). */
  readonly jwksUrl?: string;
  /** A public key: PEM (SPKI) or a JWK as JSON. */
  readonly publicKey?: string;
  /** Keys known now (e.g. published in the registry); called on every verification that needs a key. */
  readonly keys?: () => readonly JWK[];
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

/** No key is known yet to verify with (the key source is unreachable): not the caller's fault. */
export class KeysUnavailableError extends Error {
  constructor(message = 'no verification key is available yet') {
    super(message);
    this.name = 'KeysUnavailableError';
  }
}

/** Something that turns an `Authorization` header into an identity, or throws. */
export interface TokenVerifier {
  verify(authorization: string | undefined): Promise<Identity>;
}

const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** Verified tokens remembered (each at most 60 s, never past its `exp`). */
const MAX_CACHED_TOKENS = 10_000;

/**
 * Verifies bearer tokens with jose. Verified tokens are cached (bounded, at most 60 s and never
 * past `exp`), so a client reusing its token costs one signature check a minute, not one per request;
 * requests carrying the same token while its check runs (a busy client when its entry expires) wait
 * for that one check instead of each verifying the signature again.
 */
export class JwtVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { identity: Identity; until: number }>();
  /** Checks in progress, by authorization header. */
  private readonly checking = new Map<string, Promise<Identity>>();
  private readonly algorithms: string[];

  private constructor(
    private readonly key: KeyLike | Uint8Array | JWTVerifyGetKey,
    private readonly settings: JwtSettings,
  ) {
    this.algorithms = [...(settings.algorithms ?? DEFAULT_ALGORITHMS)].filter((a) => a.toLowerCase() !== 'none');
  }

  static async create(settings: JwtSettings): Promise<JwtVerifier> {
    const sources = [settings.jwksUrl, settings.publicKey, settings.keys].filter(Boolean).length;
    if (sources !== 1) throw new Error('set exactly one of JWT_JWKS_URL and JWT_PUBLIC_KEY');
    const algorithms = settings.algorithms ?? DEFAULT_ALGORITHMS;
    let key: KeyLike | Uint8Array | JWTVerifyGetKey;
    if (settings.jwksUrl) {
      key = createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    } else if (settings.keys) {
      key = dynamicKeySet(settings.keys);
    } else if (settings.publicKey!.trim().startsWith('{')) {
      const jwk = JSON.parse(settings.publicKey!) as JWK;
      key = await importJWK(jwk, jwk.alg ?? algorithms[0]);
    } else {
      key = await importSPKI(settings.publicKey!, algorithms[0]);
    }
    return new JwtVerifier(key, settings);
  }

  /** Checks the `authorization` header; resolves the identity or throws {@link AuthError} (or {@link KeysUnavailableError}). */
  async verify(authorization: string | undefined): Promise<Identity> {
    if (!authorization) throw new AuthError('missing_token', 'Authorization header with a Bearer token is required');
    // Keyed by the whole header: a client repeating its token costs one map lookup.
    const now = Date.now();
    const hit = this.cache.get(authorization);
    if (hit && hit.until > now) return hit.identity;
    const running = this.checking.get(authorization);
    if (running) return running;
    const check = this.check(authorization, now);
    this.checking.set(authorization, check);
    const done = () => this.checking.delete(authorization);
    check.then(done, done);
    return check;
  }

  private async check(authorization: string, now: number): Promise<Identity> {
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\s*$/i.exec(authorization);
    if (!m) {
      if (!/^Bearer\s/i.test(authorization)) throw new AuthError('unsupported_scheme', 'Only Bearer tokens are accepted');
      throw new AuthError('invalid_token', 'The bearer token is not a JWT');
    }
    const token = m[1];
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as KeyLike, {
        issuer: this.settings.issuer,
        audience: this.settings.audience ? [...this.settings.audience] : undefined,
        algorithms: this.algorithms,
        clockTolerance: this.settings.clockToleranceSeconds ?? 5,
      }));
    } catch (err) {
      if (err instanceof KeysUnavailableError) throw err;
      throw toAuthError(err as Error & { code?: string; claim?: string });
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError('invalid_claims', 'The token has no subject');
    const identity = identityOf(payload);
    if (this.cache.size >= MAX_CACHED_TOKENS) this.evictOldest();
    this.cache.set(authorization, { identity, until: Math.min(now + 60_000, (payload.exp ?? Infinity) * 1000) });
    return identity;
  }

  /** Full: the oldest tenth goes (insertion order), so a crowd of new tokens never empties the cache at once. */
  private evictOldest(): void {
    let n = MAX_CACHED_TOKENS / 10;
    for (const key of this.cache.keys()) {
      this.cache.delete(key);
      if (--n <= 0) return;
    }
  }
}

/** A JWKS made of whatever `keys()` returns now; rebuilt only when that changes. */
function dynamicKeySet(keys: () => readonly JWK[]): JWTVerifyGetKey {
  let last: readonly JWK[] | undefined;
  let set: JWTVerifyGetKey | undefined;
  return (header, token) => {
    const now = keys();
    if (now.length === 0) throw new KeysUnavailableError();
    if (now !== last) {
      last = now;
      set = createLocalJWKSet({ keys: [...now] });
    }
    return set!(header, token);
  };
}

/** Where published keys are read from: instances with a JSON JWKS in `metadata[field]`. */
export interface KeyDirectory {
  instances(service: string): ReadonlyArray<{ readonly metadata: Readonly<Record<string, string>> }>;
}

/** The instance metadata field the user service publishes its JWKS in. */
export const JWKS_METADATA_FIELD = 'jwks';

/**
 * The keys the instances of `service` publish in the registry (metadata `jwks`), remembered for
 * `keepMs` after the last instance publishing one left, so tokens signed before a restart or during
 * a user-service outage still verify (they expire by themselves anyway).
 */
export function publishedKeys(directory: KeyDirectory, service: string, keepMs = 24 * 3_600_000): () => readonly JWK[] {
  const seen = new Map<string, { jwk: JWK; at: number }>();
  let snapshot: readonly JWK[] = [];
  let lastInstances: unknown;
  let current = new Map<string, JWK>();
  return () => {
    const instances = directory.instances(service);
    if (instances !== lastInstances) {
      lastInstances = instances;
      current = new Map();
      for (const i of instances) {
        try {
          for (const jwk of (JSON.parse(i.metadata[JWKS_METADATA_FIELD] ?? '{}') as { keys?: JWK[] }).keys ?? []) current.set(jwk.kid ?? JSON.stringify(jwk), jwk);
        } catch {
          // A malformed record publishes no key.
        }
      }
    }
    const now = Date.now();
    let changed = false;
    for (const [id, jwk] of current) {
      if (!seen.has(id)) changed = true;
      seen.set(id, { jwk, at: now });
    }
    for (const [id, k] of seen) {
      if (now - k.at > keepMs) {
        seen.delete(id);
        changed = true;
      }
    }
    if (changed) snapshot = [...seen.values()].map((k) => k.jwk);
    return snapshot;
  };
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

/** The parsed `tokenSpec` (src/kit/config.ts). */
export interface TokenConfig {
  readonly JWT_ISSUER: string;
  readonly JWT_AUDIENCE: readonly string[];
  readonly JWT_JWKS_URL?: string;
  readonly JWT_PUBLIC_KEY?: string;
  readonly JWT_KEYS_SERVICE: string;
}

/**
 * The `tokens` of a service (createService): a verifier with the keys of `JWT_JWKS_URL`, or
 * `JWT_PUBLIC_KEY`, or by default the JWKS the instances of `JWT_KEYS_SERVICE` publish in the
 * registry (no call to another service, so no network path to it is needed).
 */
export function tokenVerifier(c: TokenConfig): (ctx: { readonly registry?: KeyDirectory }) => Promise<TokenVerifier> {
  return (ctx) =>
    JwtVerifier.create({
      issuer: c.JWT_ISSUER,
      audience: c.JWT_AUDIENCE,
      ...(c.JWT_JWKS_URL ? { jwksUrl: c.JWT_JWKS_URL } : c.JWT_PUBLIC_KEY ? { publicKey: c.JWT_PUBLIC_KEY } : { keys: publishedKeys(ctx.registry ?? { instances: () => [] }, c.JWT_KEYS_SERVICE) }),
    });
}
