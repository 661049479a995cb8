jest.setTimeout(120_000);

import { createGateway } from '../src/gateway';
import type { Service } from '../src/kit';
import { issueToken, loadSigningKey } from '../src/user/signing-key';
import { seedProduct } from './data-engines';
import { call } from './data-services';
import { startStack, type Stack } from './support/stack';

/**
 * Issue 11, item 9: a service reached directly (it listens on 0.0.0.0) trusts no identity header:
 * it verifies the forwarded token itself, with the keys the user service publishes. The gateway
 * checks issuer and audience by default, with the values the user service issues.
 */
let stack: Stack;
const url = (name: string) => stack.instances.find((i) => i.name === name)!.url;
beforeAll(async () => {
  stack = await startStack({ prefix: 'ident' });
});
afterAll(() => stack?.stop());

test('a direct call with forged identity headers is refused by every service', async () => {
  const victim = await stack.account();
  const productId = await seedProduct(stack.db.pool, 5);
  const forged = { 'x-user-id': String(victim.id), 'x-user-roles': 'admin,catalog-writer', 'x-user-email': victim.email };
  const attempts = [
    await call(url('order'), 'GET', '/cart', { headers: forged }),
    await call(url('order'), 'PUT', `/cart/items/${productId}`, { headers: forged, body: { quantity: 1 } }),
    await call(url('user'), 'GET', '/me', { headers: forged }),
    await call(url('catalog'), 'POST', '/products', { headers: forged, body: { sku: 'forged-1', name: 'x', category: 'x', priceCents: 1, stock: 1 } }),
  ];
  console.log(`[item 9] direct calls with forged x-user-* headers: ${attempts.map((a) => a.status).join(', ')}`);
  for (const a of attempts) {
    expect(a.status).toBe(401);
    expect(a.body).toMatchObject({ error: 'unauthorized', requestId: expect.any(String) });
  }
  // A real token works directly too, and wins over headers sent beside it.
  const other = await stack.account();
  const mine = await call(url('user'), 'GET', '/me', { headers: { ...forged, authorization: `Bearer ${other.token}` } });
  expect(mine.status).toBe(200);
  expect(mine.body.user.id).toBe(other.id);
  // A token that does not verify is no identity either.
  const tampered = `${other.token.slice(0, -4)}AAAA`;
  expect((await call(url('order'), 'GET', '/cart', { headers: { ...forged, authorization: `Bearer ${tampered}` } })).status).toBe(401);
  // Through the gateway, as always.
  expect((await stack.api('GET', '/api/order/cart', { token: other.token })).status).toBe(200);
});

test('the gateway checks issuer and audience by default, with the user service\'s values', async () => {
  const key = await loadSigningKey({ file: stack.env.JWT_PRIVATE_KEY_FILE });
  const user = await stack.account();
  const mint = (issuer: string, audience: string) => issueToken(key, { sub: String(user.id), email: user.email }, { issuer, audience, ttlSeconds: 300 });
  // A gateway configured with nothing but where the keys are.
  const { JWT_ISSUER: _i, JWT_AUDIENCE: _a, ...env } = stack.env;
  const gw: Service = await createGateway({ ...env, RATE_LIMIT_ENABLED: 'false', LOG_LEVEL: 'silent', JWT_JWKS_URL: `${url('user')}/.well-known/jwks.json` });
  await gw.start();
  try {
    const get = async (token: string) => (await call(gw.url, 'GET', '/api/user/me', { headers: { authorization: `Bearer ${token}` } })).status;
    const results = {
      right: await get(await mint('platform-user', 'platform-api')),
      otherIssuer: await get(await mint('someone-else', 'platform-api')),
      otherAudience: await get(await mint('platform-user', 'another-api')),
    };
    console.log(`[item 9] default gateway: ${JSON.stringify(results)}`);
    expect(results).toEqual({ right: 200, otherIssuer: 401, otherAudience: 401 });
  } finally {
    await gw.stop();
  }
});
