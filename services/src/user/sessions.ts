/**
 * Sessions in Redis Cluster: any user-service instance reads any session, so a user keeps the
 * session when the instance that created it dies. The cookie holds a random id; Redis holds only
 * its SHA-256, so a leaked Redis snapshot holds no usable session ids. TTL slides on use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { replicated } from '../data/dependencies';
import type { Cluster } from '../kit';

export interface Session {
  userId: string;
  email: string;
  createdAt: string;
  /** The roles at login: what a token refreshed while MySQL is unreachable carries. */
  roles?: string[];
}

export const SESSION_COOKIE = 'sid';

const keyOf = (sid: string) => `session:${createHash('sha256').update(sid).digest('base64url')}`;

export class SessionStore {
  constructor(
    private readonly redis: Cluster,
    readonly ttlSeconds = 86_400,
  ) {}

  async create(userId: string, email: string, roles: string[] = []): Promise<string> {
    const sid = randomBytes(32).toString('base64url');
    const session: Session = { userId, email, createdAt: new Date().toISOString(), roles };
    // On a replica before the login answers: a failover right after does not log the user out.
    const key = keyOf(sid);
    await replicated(this.redis, key, () => this.redis.set(key, JSON.stringify(session), 'EX', this.ttlSeconds));
    return sid;
  }

  /** The session, its TTL renewed; undefined if unknown or expired. */
  async touch(sid: string | undefined): Promise<Session | undefined> {
    if (!sid || !/^[A-Za-z0-9_-]{43}$/.test(sid)) return undefined;
    const raw = await this.redis.getex(keyOf(sid), 'EX', this.ttlSeconds);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  }

  async destroy(sid: string | undefined): Promise<void> {
    if (sid) await this.redis.del(keyOf(sid));
  }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function sessionCookie(sid: string, opts: { maxAgeSeconds: number; secure: boolean }): string {
  return [
    `${SESSION_COOKIE}=${sid}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${opts.maxAgeSeconds}`,
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}
