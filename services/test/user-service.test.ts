jest.setTimeout(60_000);

import { createLocalJWKSet, jwtVerify } from 'jose';
import type { Service } from '../src/kit';
import { createUserService } from '../src/user';
import { freshDatabase, uniqueName, type TestDatabase } from './data-engines';
import { call, eventually, inProcess, serviceEnv, spawnService } from './data-services';
import { deadPort } from './support/http';
import { testTokens, type TestTokens } from './support/tokens';

let db: TestDatabase;
let svc: Service;
let tokens: TestTokens;
/** A bearer token of the service's own key (the shared test key) for `userId`. */
const identity = (userId: number) => tokens.as(userId);

beforeAll(async () => {
  db = await freshDatabase('user');
  tokens = await testTokens(serviceEnv(db.settings.database));
  svc = await inProcess(() => createUserService(), serviceEnv(db.settings.database, { REGISTRY_ENABLED: 'false' }));
});
afterAll(async () => {
  await svc?.stop();
  await db?.drop();
});

async function signup(email = `${uniqueName('u')}@example.com`, password = 'pass-word-1') {
  const res = await call(svc.url, 'POST', '/public/signup', { body: { email, password, name: 'Ada' } });
  return { res, email, password };
}

test('sign up, log in, read and update the profile', async () => {
  const { res, email, password } = await signup();
  expect(res.status).toBe(201);
  const user = res.body.user;
  expect(user).toMatchObject({ email, name: 'Ada' });
  expect(user).not.toHaveProperty('passwordHash');
  expect((await signup(email.toUpperCase())).res.status).toBe(409);

  expect((await call(svc.url, 'POST', '/public/login', { body: { email, password: 'wrong-pass' } })).status).toBe(401);
  expect((await call(svc.url, 'POST', '/public/login', { body: { email: 'nobody@example.com', password } })).status).toBe(401);
  const login = await call(svc.url, 'POST', '/public/login', { body: { email, password } });
  expect(login.status).toBe(200);
  expect(login.headers.get('set-cookie')).toMatch(/^sid=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=86400$/);

  const jwksRes = await call(svc.url, 'GET', '/public/jwks.json');
  const { payload } = await jwtVerify(login.body.token, createLocalJWKSet(jwksRes.body), { issuer: 'platform-user', audience: 'platform-api' });
  expect(payload.sub).toBe(String(user.id));

  const me = await call(svc.url, 'GET', '/me', { headers: await identity(user.id) });
  expect(me.body.user.email).toBe(email);
  expect((await call(svc.url, 'GET', '/me')).status).toBe(401);
  const renamed = await call(svc.url, 'PATCH', '/me', { headers: await identity(user.id), body: { name: 'Grace' } });
  expect(renamed.body.user.name).toBe('Grace');
  const badChange = await call(svc.url, 'PATCH', '/me', { headers: await identity(user.id), body: { password: 'new-pass-word', currentPassword: 'nope' } });
  expect(badChange.status).toBe(403);
  const change = await call(svc.url, 'PATCH', '/me', { headers: await identity(user.id), body: { password: 'new-pass-word', currentPassword: password } });
  expect(change.status).toBe(200);
  expect((await call(svc.url, 'POST', '/public/login', { body: { email, password: 'new-pass-word' } })).status).toBe(200);
});

test('logout ends the session', async () => {
  const { email, password } = await signup();
  const login = await call(svc.url, 'POST', '/public/login', { body: { email, password } });
  const cookie = String(login.headers.get('set-cookie')).split(';')[0];
  expect((await call(svc.url, 'GET', '/public/session', { headers: { cookie } })).status).toBe(200);
  expect((await call(svc.url, 'POST', '/public/logout', { headers: { cookie } })).status).toBe(204);
  expect((await call(svc.url, 'GET', '/public/session', { headers: { cookie } })).status).toBe(401);
  expect((await call(svc.url, 'POST', '/public/token', { headers: { cookie } })).status).toBe(401);
});

test.each([
  ['/public/signup', { password: 'pass-word-1', name: 'A' }, 'email'],
  ['/public/signup', { email: 'not-an-email', password: 'pass-word-1', name: 'A' }, 'email'],
  ['/public/signup', { email: 'a@example.com', password: 'short', name: 'A' }, 'password'],
  ['/public/signup', { email: 'a@example.com', password: 'pass-word-1', name: '   ' }, 'name'],
  ['/public/signup', { email: 'a@example.com', password: 'pass-word-1', name: 7 }, 'name'],
  ['/public/login', { email: 'a@example.com' }, 'password'],
  ['/public/login', { email: ['a@example.com'], password: 'x' }, 'email'],
])('POST %s with %j is a 400 naming %s', async (url, payload, field) => {
  const res = await call(svc.url, 'POST', url, { body: payload });
  expect(res.status).toBe(400);
  expect(res.body.message).toContain(field);
});

test('malformed JSON and a bad profile patch are 400s', async () => {
  const bad = await call(svc.url, 'POST', '/public/login', { raw: '{"email":' });
  expect(bad.status).toBe(400);
  const empty = await call(svc.url, 'PATCH', '/me', { headers: await identity(1), body: {} });
  expect(empty.status).toBe(400);
  const noCurrent = await call(svc.url, 'PATCH', '/me', { headers: await identity(1), body: { password: 'new-pass-word' } });
  expect(noCurrent.status).toBe(400);
  expect(noCurrent.body.message).toContain('currentPassword');
});

test('a session survives the death (SIGKILL) of the instance that created it', async () => {
  const env = serviceEnv(db.settings.database, { REGISTRY_ENABLED: 'false' });
  const [a, b] = await Promise.all([spawnService('user', env), spawnService('user', env)]);
  try {
    const email = `${uniqueName('s')}@example.com`;
    expect((await call(a.url, 'POST', '/public/signup', { body: { email, password: 'pass-word-1', name: 'S' } })).status).toBe(201);
    const login = await call(a.url, 'POST', '/public/login', { body: { email, password: 'pass-word-1' } });
    expect({ status: login.status, body: login.body }).toMatchObject({ status: 200 });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];

    await a.kill('SIGKILL');
    await expect(fetch(`${a.url}/healthz`)).rejects.toThrow();

    const session = await call(b.url, 'GET', '/public/session', { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.body.session.email).toBe(email);
    const token = await call(b.url, 'POST', '/public/token', { headers: { cookie } });
    expect(token.status).toBe(200);
    const keys = (await call(b.url, 'GET', '/.well-known/jwks.json')).body;
    await expect(jwtVerify(token.body.token, createLocalJWKSet(keys))).resolves.toBeDefined();
  } finally {
    await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);
  }
});

test('Redis Cluster unreachable: login answers a friendly 503 quickly and the service stays up', async () => {
  const { email, password } = await signup();
  const down = await inProcess(() => createUserService(), serviceEnv(db.settings.database, { REGISTRY_ENABLED: 'false', REDIS_CLUSTER_NODES: `127.0.0.1:${await deadPort()}` }), false);
  await down.start();
  try {
    await eventually(async () => (await call(down.url, 'GET', '/readyz')).body.checks.mysql === 'ok');
    const started = Date.now();
    const res = await call(down.url, 'POST', '/public/login', { body: { email, password } });
    expect(res.status).toBe(503);
    expect(res.body.message).toContain('redis');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await call(down.url, 'GET', '/healthz')).status).toBe(200);
    expect((await call(down.url, 'GET', '/readyz')).body.checks.redis).not.toBe('ok');
  } finally {
    await down.stop();
  }
});
