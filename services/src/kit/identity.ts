import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers the gateway sets after verifying a JWT. The gateway deletes any incoming header of these
 * names (and any other `x-user-*` / `x-auth-*`) first; a service created with `tokens` does the same
 * and sets them again from the bearer token it verifies itself, so it trusts no caller's assertion.
 */
export const IDENTITY_HEADERS = {
  /** JWT `sub`. */
  userId: 'x-user-id',
  /** Comma-separated roles: the JWT `roles` claim (array or string). */
  roles: 'x-user-roles',
  /** Space-separated OAuth scopes: the JWT `scope` / `scp` claim. */
  scopes: 'x-user-scopes',
  /** JWT `email`, when present. */
  email: 'x-user-email',
  /** Issuer of the verified token. */
  issuer: 'x-auth-issuer',
} as const;

/** The request id header, set by the gateway (or the first service) and propagated on every hop. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Header prefixes a client may never send through the gateway. */
export const RESERVED_HEADER_PREFIXES = ['x-user-', 'x-auth-'] as const;

/** The caller's identity as the gateway asserted it. */
export interface Identity {
  readonly userId: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly email?: string;
  readonly issuer?: string;
}

/** Reads the identity headers; undefined for an anonymous (public-route) request. */
export function readIdentity(headers: IncomingHttpHeaders): Identity | undefined {
  const userId = one(headers[IDENTITY_HEADERS.userId]);
  if (!userId) return undefined;
  return {
    userId,
    roles: split(one(headers[IDENTITY_HEADERS.roles]), ','),
    scopes: split(one(headers[IDENTITY_HEADERS.scopes]), ' '),
    email: one(headers[IDENTITY_HEADERS.email]),
    issuer: one(headers[IDENTITY_HEADERS.issuer]),
  };
}

/** Identity as headers (what the gateway sets, and what a test sends to a service directly). */
export function identityHeaders(identity: Identity): Record<string, string> {
  const out: Record<string, string> = { [IDENTITY_HEADERS.userId]: identity.userId };
  if (identity.roles.length) out[IDENTITY_HEADERS.roles] = identity.roles.join(',');
  if (identity.scopes.length) out[IDENTITY_HEADERS.scopes] = identity.scopes.join(' ');
  if (identity.email) out[IDENTITY_HEADERS.email] = identity.email;
  if (identity.issuer) out[IDENTITY_HEADERS.issuer] = identity.issuer;
  return out;
}

/**
 * Headers to pass on when a service calls another one on behalf of a request: the request id, the
 * identity and the bearer token it came from (a service that verifies tokens takes the identity
 * from the token alone), so the callee logs the same id and authorizes the same user.
 */
export function propagatedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [REQUEST_ID_HEADER, 'authorization', ...Object.values(IDENTITY_HEADERS)]) {
    const v = one(headers[name]);
    if (v) out[name] = v;
  }
  return out;
}

/** True for a header name a client must not be able to set. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_HEADER_PREFIXES.some((p) => lower.startsWith(p));
}

/** Deletes every reserved header (node's header names are lower case already). */
export function dropReservedHeaders(headers: IncomingHttpHeaders): void {
  for (const name in headers) {
    // 'x' first: most headers are not x- ones.
    const first = name.charCodeAt(0);
    if ((first === 120 || first === 88) && isReservedHeader(name)) delete headers[name];
  }
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v || undefined;
}

function split(v: string | undefined, sep: string): string[] {
  return v ? v.split(sep).map((s) => s.trim()).filter(Boolean) : [];
}
