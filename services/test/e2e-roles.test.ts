jest.setTimeout(120_000);

import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { createUserService } from '../src/user';
import { uniqueName } from './data-engines';
import { call, eventually, inProcess } from './data-services';
import { MemoryLog } from './support/engines';
import { startStack, type Stack } from './support/stack';

/**
 * Issue 11, item 8: roles are stored with the user, an admin is bootstrapped from config (or its
 * secret), tokens carry the roles, and catalog writes need the writer role by default.
 */
const admin = { email: `${uniqueName('admin')}@example.com`, password: `admin-${randomUUID()}` };
let stack: Stack;
let adminToken: string;
beforeAll(async () => {
  stack = await startStack({ prefix: 'roles', serviceEnv: { user: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password } } });
});
afterAll(() => stack?.stop());

const product = () => ({ sku: uniqueName('sku'), name: 'Lamp', category: 'lighting', priceCents: 1000, stock: 1 });

test('the bootstrapped admin grants the writer role; only then may a user write products', async () => {
  const seller = await stack.account();
  const before = await stack.api('POST', '/api/catalog/products', { token: seller.token, body: product() });
  console.log(`[item 8] product write by a signed-in user without a role: ${before.status} ${before.body.error}`);
  expect(before.status).toBe(403);
  expect(before.body).toMatchObject({ error: 'forbidden', requestId: expect.any(String) });
  adminToken = await stack.login(admin);
  expect(decodeJwt(adminToken).roles).toEqual(['admin']);

  // Not an admin: may not grant.
  expect((await stack.api('PUT', `/api/user/users/${seller.id}/roles/catalog-writer`, { token: seller.token })).status).toBe(403);
  const found = await stack.api('GET', `/api/user/users?email=${encodeURIComponent(seller.email)}`, { token: adminToken });
  expect(found.body.user).toMatchObject({ id: seller.id, roles: [] });
  const granted = await stack.api('PUT', `/api/user/users/${seller.id}/roles/catalog-writer`, { token: adminToken });
  expect(granted.status).toBe(200);
  expect(granted.body.user.roles).toEqual(['catalog-writer']);
  expect((await stack.api('PUT', `/api/user/users/${seller.id}/roles/Not A Role`, { token: adminToken })).status).toBe(400);

  // The next token carries it (the old one still says what it said when issued).
  const fresh = await stack.login(seller);
  expect(decodeJwt(fresh).roles).toEqual(['catalog-writer']);
  expect((await stack.api('GET', '/api/user/me', { token: fresh })).body.user.roles).toEqual(['catalog-writer']);
  const after = await stack.api('POST', '/api/catalog/products', { token: fresh, body: product() });
  console.log(`[item 8] the same user after the grant and a fresh token: ${after.status}`);
  expect(after.status).toBe(201);
  // The admin may write too.
  expect((await stack.api('POST', '/api/catalog/products', { token: adminToken, body: product() })).status).toBe(201);

  // Revoked: the next token has no role, and writes are refused again.
  expect((await stack.api('DELETE', `/api/user/users/${seller.id}/roles/catalog-writer`, { token: adminToken })).body.user.roles).toEqual([]);
  const revoked = await stack.login(seller);
  expect(decodeJwt(revoked).roles).toEqual([]);
  expect((await stack.api('POST', '/api/catalog/products', { token: revoked, body: product() })).status).toBe(403);
});

test('a token refreshed from the session carries the current roles', async () => {
  const user = await stack.account();
  const login = await stack.api('POST', '/api/user/public/login', { body: { email: user.email, password: user.password } });
  const cookie = String(login.headers.get('set-cookie')).split(';')[0];
  await stack.api('PUT', `/api/user/users/${user.id}/roles/catalog-writer`, { token: adminToken });
  const refreshed = await stack.api('POST', '/api/user/public/token', { headers: { cookie } });
  expect(refreshed.status).toBe(200);
  expect(decodeJwt(refreshed.body.token).roles).toEqual(['catalog-writer']);
});

test('the bootstrap never promotes an account someone else registered first under the admin email', async () => {
  const email = `${uniqueName('squat')}@example.com`;
  const squatter = await stack.api('POST', '/api/user/public/signup', { body: { email, password: 'squatter-pass', name: 'Mallory' } });
  expect(squatter.status).toBe(201);
  const log = new MemoryLog();
  const second = await inProcess(() => createUserService({ logDestination: log }), {
    ...stack.env, REGISTRY_ENABLED: 'false', LOG_LEVEL: 'info', ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the-real-admin-password',
  });
  try {
    await eventually(async () => log.lines.some((l) => l.level === 'error' && String(l.msg).startsWith('ADMIN_EMAIL names an account whose password is not ADMIN_PASSWORD')));
    const login = await call(second.url, 'POST', '/public/login', { body: { email, password: 'squatter-pass' } });
    expect(login.status).toBe(200);
    expect(decodeJwt(login.body.token).roles).toEqual([]);
  } finally {
    await second.stop();
  }
});
