/**
 * user service: sign-up, login, sessions (Redis Cluster), JWT issuing (ES256) and the JWKS the
 * gateway verifies tokens with, profile read/update. Routes under /public/ need no token (the
 * gateway's default public paths); /me is for the user the gateway's identity headers name.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createService, loadConfig, readIdentity, type Service, type ServiceDefinition } from '../kit';
import { connectMysql, connectRedis, NotReadyError, withDependencyErrors } from '../data/dependencies';
import { userEnv, userSpec } from './env';
import { DEFAULT_COST, hashPassword, needsRehash, timingDummyHash, verifyPassword } from './password';
import { readCookie, SESSION_COOKIE, sessionCookie, SessionStore } from './sessions';
import { issueToken, jwks, loadSigningKey } from './signing-key';
import { createUser, EmailTakenError, findUserByEmail, findUserById, publicUser, updateUser } from './users-store';

export { userSpec };

const email = { type: 'string', format: 'email', maxLength: 254 } as const;
const password = { type: 'string', minLength: 8, maxLength: 128 } as const;
const name = { type: 'string', minLength: 1, maxLength: 100, pattern: '\\S' } as const;

export async function createUserService(overrides: Partial<ServiceDefinition> = {}): Promise<Service> {
  const cfg = loadConfig(userEnv);
  const cost = { ...DEFAULT_COST, log2N: cfg.PASSWORD_SCRYPT_LOG2N };
  return createService({
    name: 'user',
    async routes(app, ctx) {
      const db = connectMysql(ctx);
      const redis = connectRedis(ctx);
      const sessions = new SessionStore(redis, cfg.SESSION_TTL_SECONDS);
      const key = await loadSigningKey({
        secretArn: cfg.JWT_SIGNING_KEY_SECRET_ARN,
        pem: cfg.JWT_PRIVATE_KEY_PEM,
        file: cfg.JWT_PRIVATE_KEY_FILE,
        region: cfg.AWS_REGION,
      });
      const tokenOpts = { issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE, ttlSeconds: cfg.JWT_TTL_SECONDS };
      const pool = () => {
        if (!db.isMigrated()) throw new NotReadyError('database');
        return db.pool;
      };
      const tokenResponse = async (user: { id: number; email: string }, sid?: string) => ({
        token: await issueToken(key, { sub: String(user.id), email: user.email, sid }, tokenOpts),
        tokenType: 'Bearer',
        expiresIn: cfg.JWT_TTL_SECONDS,
      });
      const requireUser = (req: FastifyRequest, reply: FastifyReply) => {
        const who = readIdentity(req.headers);
        const id = Number(who?.userId);
        if (!who || !Number.isSafeInteger(id) || id <= 0) {
          void reply.code(401).send({ error: 'unauthorized', message: 'Log in first', requestId: req.id });
          return undefined;
        }
        return id;
      };

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
              if (err instanceof EmailTakenError) return reply.code(409).send({ error: 'email_taken', message: err.message, requestId: req.id });
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
            if (!user || !ok) return reply.code(401).send({ error: 'invalid_credentials', message: 'Email or password is wrong', requestId: req.id });
            if (needsRehash(user.passwordHash, cost)) await updateUser(db.pool, user.id, { passwordHash: await hashPassword(req.body.password, cost) });
            const sid = await sessions.create(String(user.id), user.email);
            reply.header('set-cookie', sessionCookie(sid, { maxAgeSeconds: cfg.SESSION_TTL_SECONDS, secure: cfg.COOKIE_SECURE }));
            return { user: publicUser(user), ...(await tokenResponse(user, sid)) };
          },
        );

        // A browser holding the session cookie trades it for a fresh short-lived JWT.
        api.post('/public/token', async (req, reply) => {
          const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
          const session = await sessions.touch(sid);
          if (!session) return reply.code(401).send({ error: 'no_session', message: 'No valid session; log in again', requestId: req.id });
          return tokenResponse({ id: Number(session.userId), email: session.email }, sid);
        });

        api.get('/public/session', async (req, reply) => {
          const session = await sessions.touch(readCookie(req.headers.cookie, SESSION_COOKIE));
          if (!session) return reply.code(401).send({ error: 'no_session', message: 'No valid session; log in again', requestId: req.id });
          return { session };
        });

        api.post('/public/logout', async (req, reply) => {
          await sessions.destroy(readCookie(req.headers.cookie, SESSION_COOKIE));
          return reply.header('set-cookie', sessionCookie('', { maxAgeSeconds: 0, secure: cfg.COOKIE_SECURE })).code(204).send();
        });

        api.get('/me', async (req, reply) => {
          const id = requireUser(req, reply);
          if (id === undefined) return reply;
          const user = await findUserById(pool(), id);
          if (!user) return reply.code(404).send({ error: 'not_found', message: 'No such user', requestId: req.id });
          return { user: publicUser(user) };
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
            const id = requireUser(req, reply);
            if (id === undefined) return reply;
            const user = await findUserById(pool(), id);
            if (!user) return reply.code(404).send({ error: 'not_found', message: 'No such user', requestId: req.id });
            let passwordHash: string | undefined;
            if (req.body.password !== undefined) {
              if (!(await verifyPassword(req.body.currentPassword ?? '', user.passwordHash))) {
                return reply.code(403).send({ error: 'invalid_credentials', message: 'currentPassword is wrong', requestId: req.id });
              }
              passwordHash = await hashPassword(req.body.password, cost);
            }
            await updateUser(db.pool, id, { name: req.body.name?.trim(), passwordHash });
            return { user: publicUser((await findUserById(db.pool, id))!) };
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
