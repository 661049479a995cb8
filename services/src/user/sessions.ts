/**
 * Sessions in Redis Cluster: any user-service instance reads any session, so a user keeps the
 * session when the instance that created it dies. The cookie holds a random id; Redis holds only
 * its SHA-256, so a leaked Redis snapshot holds no usable session ids. TTL slides on use.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from '../data/redis-lock';

export interface Session {
  userId: string;
  email: string;
  createdAt: string;
}

export const SESSION_COOKIE = 'sid';

const keyOf = (sid: string) => `session:${createHash('sha256').update(sid).digest('base64url')}`;

export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    readonly ttlSeconds = 86_400,
  ) {}

  async create(userId: string, email: string): Promise<string> {
    const sid = randomBytes(32).toString('base64url');
    const session: Session = { userId, email, createdAt: new Date().toISOString() };
    await this.redis.set(keyOf(sid), JSON.stringify(session), 'EX', this.ttlSeconds);
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
