jest.setTimeout(120_000);

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createCatalogService } from '../src/catalog';
import { createOpenSearchClient } from '../src/data/opensearch';
import { createGateway } from '../src/gateway';
import type { Service } from '../src/kit';
import { createOrderService } from '../src/order';
import { createUserService } from '../src/user';
import { engineEnv, freshDatabase, stockOf, uniqueName, type TestDatabase } from './data-engines';
import { call, eventually, inProcess, serviceEnv } from './data-services';

/**
 * The whole journey through the gateway, every service found through etcd, the jobs run as the
 * one-shot processes Kubernetes runs: sign up -> log in -> create a product -> upload its image
 * -> search finds it -> cart -> checkout -> order-timeout cancels the unpaid order -> search-sync
 * brings the stock back into search.
 */
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
const services: Service[] = [];
let gw: Service;
const alias = uniqueName('e2e-products').toLowerCase();
const admin = { email: `${uniqueName('admin')}@example.com`, password: 'admin-pass-word-1' };

beforeAll(async () => {
  db = await freshDatabase('e2e');
  env = serviceEnv(db.settings.database, { SEARCH_INDEX_ALIAS: alias, JWT_ISSUER: 'platform-user', JWT_AUDIENCE: 'platform-api', ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
  for (const create of [createUserService, createCatalogService, createOrderService]) services.push(await inProcess(create, env));
  gw = await createGateway({ ...env, JWT_JWKS_URL: `${services[0].url}/.well-known/jwks.json` });
  await gw.start();
  await eventually(async () => ['user', 'catalog', 'order'].every((s) => gw.ctx.registry!.instances(s).length > 0));
  await eventually(async () => (await call(gw.url, 'GET', '/api/catalog/public/search')).status === 200, 20_000);
});
afterAll(async () => {
  await gw?.stop();
  for (const s of services.reverse()) await s.stop();
  const os = createOpenSearchClient(engineEnv());
  await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await os.close();
  await db?.drop();
});

function runJob(service: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; result: Record<string, unknown> }> {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...env, SERVICE: service, LOG_LEVEL: 'info', ...extra },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((r) =>
    child.once('exit', (code) => {
      const last = out.trim().split('\n').map((l) => JSON.parse(l) as { result?: Record<string, unknown> }).pop();
      r({ code, result: last?.result ?? {} });
    }),
  );
}

test('sign up, log in, sell, upload, search, buy, time out, resync', async () => {
  const email = `${uniqueName('buyer')}@example.com`;
  const api = (method: string, path: string, body?: unknown, token?: string) =>
    call(gw.url, method, `/api${path}`, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });

  const signup = await api('POST', '/user/public/signup', { email, password: 'journey-pass-1', name: 'Jo' });
  expect(signup.status).toBe(201);
  // Selling needs the writer role: the bootstrap admin grants it, the next login's token carries it.
  const adminToken = (await eventually(async () => (await api('POST', '/user/public/login', admin)).body.token as string | undefined, 10_000));
  expect((await api('PUT', `/user/users/${signup.body.user.id}/roles/catalog-writer`, undefined, adminToken)).status).toBe(200);
  const login = await api('POST', '/user/public/login', { email, password: 'journey-pass-1' });
  expect(login.status).toBe(200);
  expect(login.headers.get('set-cookie')).toMatch(/^sid=/);
  expect(login.body.user.roles).toEqual(['catalog-writer']);
  const token = login.body.token as string;
  expect((await api('GET', '/user/me', undefined, token)).body.user.email).toBe(email);
  expect((await api('GET', '/order/cart')).status).toBe(401);
  expect((await call(gw.url, 'GET', '/api/order/cart', { headers: { 'x-user-id': '1' } })).status).toBe(401); // a forged identity is no identity

  const name = `Journey Lamp ${uniqueName('x').slice(-6)}`;
  const created = await api('POST', '/catalog/products', { sku: uniqueName('lamp'), name, description: 'A desk lamp', category: 'lighting', priceCents: 4200, stock: 3 }, token);
  expect(created.status).toBe(201);
  const productId = created.body.product.id as number;

  const png = Buffer.from('\x89PNG\r\n\x1a\njourney');
  const presigned = await api('POST', `/catalog/products/${productId}/image-upload`, { contentType: 'image/png', contentLength: png.length }, token);
  const { url, headers, key } = presigned.body.upload;
  expect((await fetch(url, { method: 'PUT', headers, body: png })).status).toBe(200);
  expect((await api('POST', `/catalog/products/${productId}/image`, { key }, token)).body.product.imageKey).toBe(key);

  const searchFor = async () => (await api('GET', `/catalog/public/search?q=${encodeURIComponent(name)}`)).body.items as { id: number; stock: number; imageKey: string }[];
  // Searchable within the index's 1 s refresh.
  const found = await eventually(async () => (await searchFor()).find((d) => d.id === productId && d.imageKey === key), 5000);
  expect(found.stock).toBe(3);

  expect((await api('PUT', `/order/cart/items/${productId}`, { quantity: 2 }, token)).status).toBe(200);
  const checkout = await call(gw.url, 'POST', '/api/order/checkout', { headers: { authorization: `Bearer ${token}`, 'idempotency-key': `journey-${productId}` } });
  expect(checkout.status).toBe(201);
  const orderId = checkout.body.order.id as number;
  expect((await api('GET', `/order/orders/${orderId}`, undefined, token)).body.order).toMatchObject({ status: 'pending', totalCents: 8400 });
  expect((await api('GET', `/catalog/public/products?ids=${productId}`)).body.products[0].stock).toBe(1);

  const afterCheckout = await runJob('search-sync', { SEARCH_SYNC_MODE: 'drain' });
  expect(afterCheckout.code).toBe(0);
  await eventually(async () => (await searchFor()).find((d) => d.id === productId && d.stock === 1), 5000);

  // 31 minutes later, still unpaid:
  await db.pool.execute('UPDATE orders SET created_at = NOW(3) - INTERVAL 31 MINUTE WHERE id = ?', [orderId]);
  const shards = await Promise.all([0, 1].map((i) => runJob('order-timeout', { JOB_COMPLETIONS: '2', JOB_COMPLETION_INDEX: String(i) })));
  expect(shards.map((s) => s.code)).toEqual([0, 0]);
  expect(shards.reduce((n, s) => n + Number(s.result.cancelled), 0)).toBe(1);
  expect((await api('GET', `/order/orders/${orderId}`, undefined, token)).body.order.status).toBe('cancelled');
  expect(await stockOf(db.pool, productId)).toBe(3);

  expect((await runJob('search-sync', { SEARCH_SYNC_MODE: 'drain' })).code).toBe(0);
  await eventually(async () => (await searchFor()).find((d) => d.id === productId && d.stock === 3), 5000);

  // The nightly full rebuild agrees with the incremental path.
  const full = await runJob('search-sync', { SEARCH_SYNC_MODE: 'full' });
  expect(full.code).toBe(0);
  expect(full.result.count).toBe(1);
  await eventually(async () => (await searchFor()).find((d) => d.id === productId && d.stock === 3), 5000);
});
