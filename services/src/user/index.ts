/**
 * user service: sign-up, login, sessions (Redis Cluster), JWT issuing (ES256, with the user's
 * roles) and the JWKS the gateway and the services verify tokens with (served, and published in
 * the registry), profile read/update, role assignment by an admin, and the bootstrap admin.
 * Routes under /public/ need no token (the gateway's default public paths); the others are for
 * the user the bearer token names (verified here too, with this service's own key).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  createService, JWKS_METADATA_FIELD, JwtVerifier, loadConfig, readIdentity, replyError, requireUserId, type Service, type ServiceContext, type ServiceDefinition,
} from '../kit';
import { connectMysql, connectRedis, NotReadyError, unavailableDependency, withDependencyErrors } from '../data/dependencies';
import { userEnv, userRules, userSpec } from './env';
import { DEFAULT_COST, hashPassword, needsRehash, timingDummyHash, verifyPassword, type ScryptCost } from './password';
import { readCookie, SESSION_COOKIE, sessionCookie, SessionStore } from './sessions';
import { issueToken, jwks, loadSigningKey } from './signing-key';
import {
  ADMIN_ROLE, createUser, EmailTakenError, findUserByEmail, findUserById, grantRole, publicUser, revokeRole, ROLE_PATTERN, rolesOf, updateUser,
} from './users-store';
import type { Pool } from '../data/mysql';

export { userSpec };

const email = { type: 'string', format: 'email', maxLength: 254 } as const;
const password = { type: 'string', minLength: 8, maxLength: 128 } as const;
const name = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } as const;

const userId = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

/**
 * Gives the bootstrap admin (ADMIN_EMAIL / ADMIN_PASSWORD) the admin role: creates the account if
 * it does not exist; promotes an existing one only if ADMIN_PASSWORD is its password, so whoever
 * signed up first under that email (emails are not verified) never becomes an admin.
 */
async function bootstrapAdmin(ctx: ServiceContext, pool: Pool, email: string, password: string, cost: ScryptCost): Promise<void> {
  const address = email.toLowerCase();
  let user = await findUserByEmail(pool, address);
  if (!user) {
    try {
      await createUser(pool, address, 'Administrator', await hashPassword(password, cost));
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err;
    }
    user = await findUserByEmail(pool, address);
    if (!user) throw new Error('the bootstrap admin account could not be read back');
  } else if (!(await verifyPassword(password, user.passwordHash))) {
    ctx.log.error({ userId: user.id }, 'ADMIN_EMAIL names an account whose password is not ADMIN_PASSWORD: not made an admin');
    return;
  }
  await grantRole(pool, user.id, ADMIN_ROLE, null);
  ctx.log.info({ userId: user.id }, 'bootstrap admin ready');
}

export async function createUserService(overrides: Partial<ServiceDefinition> = {}): Promise<Service> {
  const cfg = loadConfig(userEnv, process.env, userRules);
  const cost = { ...DEFAULT_COST, log2N: cfg.PASSWORD_SCRYPT_LOG2N };
  const key = await loadSigningKey({
    secretArn: cfg.JWT_SIGNING_KEY_SECRET_ARN,
    pem: cfg.JWT_PRIVATE_KEY_PEM,
    file: cfg.JWT_PRIVATE_KEY_FILE,
    region: cfg.AWS_REGION,
  });
  return createService({
    name: 'user',
    // Every service verifies tokens with these keys: they read them from this instance record.
    metadata: { [JWKS_METADATA_FIELD]: JSON.stringify(jwks(key)) },
    tokens: () => JwtVerifier.create({ publicKey: JSON.stringify(key.publicJwk), issuer: cfg.JWT_ISSUER, audience: [cfg.JWT_AUDIENCE] }),
    async routes(app, ctx) {
      const db = connectMysql(ctx);
      const redis = connectRedis(ctx);
      const sessions = new SessionStore(redis, cfg.SESSION_TTL_SECONDS);
      const tokenOpts = { issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE, ttlSeconds: cfg.JWT_TTL_SECONDS };
      const pool = () => {
        if (!db.isMigrated()) throw new NotReadyError('database');
        return db.pool;
      };
      if (cfg.ADMIN_EMAIL && cfg.ADMIN_PASSWORD) {
        const [email, password] = [cfg.ADMIN_EMAIL, cfg.ADMIN_PASSWORD];
        let stopped = false;
        ctx.shutdown.onClose('admin bootstrap', () => void (stopped = true));
        void db.migrated.then(async () => {
          for (let attempt = 1; !stopped; attempt++) {
            try {
              return await bootstrapAdmin(ctx, db.pool, email, password, cost);
            } catch (err) {
              ctx.log.warn({ err: (err as Error).message, attempt }, 'admin bootstrap failed; retrying');
              await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)).unref());
            }
          }
        });
      }
      const tokenResponse = async (user: { id: number; email: string }, roles: readonly string[], sid?: string) => ({
        token: await issueToken(key, { sub: String(user.id), email: user.email, sid, roles }, tokenOpts),
        tokenType: 'Bearer',
        expiresIn: cfg.JWT_TTL_SECONDS,
      });
      const requireAdmin = (req: FastifyRequest, reply: FastifyReply) => {
        const id = requireUserId(req, reply);
        if (id === undefined) return undefined;
        if (!readIdentity(req.headers)!.roles.includes(ADMIN_ROLE)) {
          void replyError(reply, 403, 'forbidden', 'Managing roles needs the admin role');
          return undefined;
        }
        return id;
      };
      const withRoles = async (user: Parameters<typeof publicUser>[0]) => ({ ...publicUser(user), roles: await rolesOf(pool(), user.id) });

      // Under /public/ so the gateway serves it without a token (its default public paths).
      for (const path of ['/public/jwks.json', '/.well-known/jwks.json']) {
        app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(jwks(key)));
      }

      await withDependencyErrors(app, ctx, (api) => {
        api.post<{ Body: { email: string; password: string; name: string } }>(
          '/public/signup',
          { schema: { body: { type: 'object', required: ['email', 'password', 'name'], additionalProperties: false, properties: { email, password, name } } } },
          async (req, reply) => {
            const hash = await hashPassword(req.body.password, cost);
            try {
              const user = await createUser(pool(), req.body.email.toLowerCase(), req.body.name.trim(), hash);
              return reply.code(201).send({ user });
            } catch (err) {
              if (err instanceof EmailTakenError) return replyError(reply, 409, 'email_taken', err.message);
              throw err;
            }
          },
        );

        api.post<{ Body: { email: string; password: string } }>(
          '/public/login',
          { schema: { body: { type: 'object', required: ['email', 'password'], additionalProperties: false, properties: { email, password: { type: 'string', minLength: 1, maxLength: 128 } } } } },
          async (req, reply) => {
            const user = await findUserByEmail(pool(), req.body.email.toLowerCase());
            // Unknown email costs the same scrypt as a wrong password: no account enumeration by timing.
            const ok = await verifyPassword(req.body.password, user?.passwordHash ?? (await timingDummyHash(cost)));
            if (!user || !ok) return replyError(reply, 401, 'invalid_credentials', 'Email or password is wrong');
            if (needsRehash(user.passwordHash, cost)) await updateUser(db.pool, user.id, { passwordHash: await hashPassword(req.body.password, cost) });
            const roles = await rolesOf(db.pool, user.id);
            const sid = await sessions.create(String(user.id), user.email, roles);
            reply.header('set-cookie', sessionCookie(sid, { maxAgeSeconds: cfg.SESSION_TTL_SECONDS, secure: cfg.COOKIE_SECURE }));
            return { user: { ...publicUser(user), roles }, ...(await tokenResponse(user, roles, sid)) };
          },
        );

        // A browser holding the session cookie trades it for a fresh short-lived JWT.
        api.post('/public/token', async (req, reply) => {
          const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
          const session = await sessions.touch(sid);
          if (!session) return replyError(reply, 401, 'no_session', 'No valid session; log in again');
          // The current roles; with MySQL unreachable, those of the login (a refresh still works).
          const roles = await rolesOf(pool(), Number(session.userId)).catch((err: unknown) => {
            if (!unavailableDependency(err)) throw err;
            req.log.warn({ err: (err as Error).message }, 'roles unreadable: the session\'s roles go in the token');
            return session.roles ?? [];
          });
          return tokenResponse({ id: Number(session.userId), email: session.email }, roles, sid);
        });

        api.get('/public/session', async (req, reply) => {
          const session = await sessions.touch(readCookie(req.headers.cookie, SESSION_COOKIE));
          if (!session) return replyError(reply, 401, 'no_session', 'No valid session; log in again');
          return { session };
        });

        api.post('/public/logout', async (req, reply) => {
          await sessions.destroy(readCookie(req.headers.cookie, SESSION_COOKIE));
          return reply.header('set-cookie', sessionCookie('', { maxAgeSeconds: 0, secure: cfg.COOKIE_SECURE })).code(204).send();
        });

        api.get('/me', async (req, reply) => {
          const id = requireUserId(req, reply);
          if (id === undefined) return reply;
          const user = await findUserById(pool(), id);
          if (!user) return replyError(reply, 404, 'not_found', 'No such user');
          return { user: await withRoles(user) };
        });

        // Roles: an admin looks a user up and grants or revokes a role; it is in the user's next token.
        api.get<{ Querystring: { email: string } }>(
          '/users',
          { schema: { querystring: { type: 'object', required: ['email'], additionalProperties: false, properties: { email } } } },
          async (req, reply) => {
            if (requireAdmin(req, reply) === undefined) return reply;
            const user = await findUserByEmail(pool(), req.query.email.toLowerCase());
            if (!user) return replyError(reply, 404, 'not_found', 'No such user');
            return { user: await withRoles(user) };
          },
        );

        const roleParams = {
          type: 'object',
          required: ['id', 'role'],
          properties: { id: userId, role: { type: 'string', pattern: ROLE_PATTERN.source } },
        } as const;
        api.put<{ Params: { id: number; role: string } }>('/users/:id/roles/:role', { schema: { params: roleParams } }, async (req, reply) => {
          const adminId = requireAdmin(req, reply);
          if (adminId === undefined) return reply;
          if (!(await grantRole(pool(), req.params.id, req.params.role, adminId))) return replyError(reply, 404, 'not_found', 'No such user');
          req.log.info({ userId: req.params.id, role: req.params.role, by: adminId }, 'role granted');
          return { user: await withRoles((await findUserById(pool(), req.params.id))!) };
        });
        api.delete<{ Params: { id: number; role: string } }>('/users/:id/roles/:role', { schema: { params: roleParams } }, async (req, reply) => {
          const adminId = requireAdmin(req, reply);
          if (adminId === undefined) return reply;
          const user = await findUserById(pool(), req.params.id);
          if (!user) return replyError(reply, 404, 'not_found', 'No such user');
          await revokeRole(pool(), req.params.id, req.params.role);
          req.log.info({ userId: req.params.id, role: req.params.role, by: adminId }, 'role revoked');
          return { user: await withRoles(user) };
        });

        api.patch<{ Body: { name?: string; password?: string; currentPassword?: string } }>(
          '/me',
          {
            schema: {
              body: {
                type: 'object',
                additionalProperties: false,
                minProperties: 1,
                properties: { name, password, currentPassword: { type: 'string', minLength: 1, maxLength: 128 } },
                dependencies: { password: ['currentPassword'] },
              },
            },
          },
          async (req, reply) => {
            const id = requireUserId(req, reply);
            if (id === undefined) return reply;
            const user = await findUserById(pool(), id);
            if (!user) return replyError(reply, 404, 'not_found', 'No such user');
            let passwordHash: string | undefined;
            if (req.body.password !== undefined) {
              if (!(await verifyPassword(req.body.currentPassword ?? '', user.passwordHash))) {
                return replyError(reply, 403, 'invalid_credentials', 'currentPassword is wrong');
              }
              passwordHash = await hashPassword(req.body.password, cost);
            }
            await updateUser(db.pool, id, { name: req.body.name?.trim(), passwordHash });
            return { user: await withRoles((await findUserById(db.pool, id))!) };
          },
        );
      });
    },
    ...overrides,
  });
}

export async function start(): Promise<void> {
  const svc = await createUserService();
  svc.handleSignals();
  await svc.start();
}
