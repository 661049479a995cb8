jest.setTimeout(60_000);

import { createCatalogService } from '../src/catalog';
import type { Service } from '../src/kit';
import { createOrderService } from '../src/order';
import { ORDER_STREAM } from '../src/data/events';
import { createOpenSearchClient } from '../src/data/opensearch';
import { engineEnv, freshDatabase, stockOf, testRedis, uniqueName, type TestDatabase } from './data-engines';
import { call, eventually, inProcess, serviceEnv } from './data-services';
import { testTokens, type TestTokens } from './support/tokens';

let db: TestDatabase;
let catalog: Service;
let order: Service;
let catalogName: string;
const alias = uniqueName('orders-test-products').toLowerCase();
const redis = testRedis();
const userBase = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
let tokens: TestTokens;
const headerCache = new Map<number, Record<string, string>>();
const as = (userId: number) => headerCache.get(userId)!;
/** Checkout headers: the user's token and a fresh Idempotency-Key. */
const buy = (userId: number) => ({ ...as(userId), 'idempotency-key': `${userId}-${Math.random()}` });

beforeAll(async () => {
  db = await freshDatabase('order');
  // A registry name of its own, so no other test file's catalog (another database) is discovered.
  catalogName = uniqueName('catalog').toLowerCase();
  tokens = await testTokens(serviceEnv(db.settings.database));
  for (const u of [1, ...Array.from({ length: 50 }, (_, i) => userBase + i), userBase + 100, userBase + 101, userBase + 200]) {
    headerCache.set(u, await tokens.as(u, ['catalog-writer']));
  }
  const env = serviceEnv(db.settings.database, { SEARCH_INDEX_ALIAS: alias, CATALOG_SERVICE: catalogName, ...tokens.env });
  catalog = await inProcess(() => createCatalogService({ name: catalogName }), env);
  order = await inProcess(() => createOrderService(), env);
  // Checkout finds catalog through the etcd registry, as in the cluster.
  await eventually(async () => order.ctx.registry!.instances(catalogName).some((i) => i.port === Number(new URL(catalog.url).port)));
});
afterAll(async () => {
  await order?.stop();
  await catalog?.stop();
  await redis.quit();
  const os = createOpenSearchClient(engineEnv());
  await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await os.close();
  await db?.drop();
});

async function product(stock: number, priceCents = 2500): Promise<number> {
  const res = await call(catalog.url, 'POST', '/products', { headers: as(1), body: { sku: uniqueName('sku'), name: 'Limited edition', category: 'drops', priceCents, stock } });
  expect(res.status).toBe(201);
  return res.body.product.id;
}

test('50 concurrent checkouts on a product with 10 in stock: exactly 10 succeed, stock ends at 0', async () => {
  const productId = await product(10);
  const users = Array.from({ length: 50 }, (_, i) => userBase + i);
  for (const u of users) expect((await call(order.url, 'PUT', `/cart/items/${productId}`, { headers: as(u), body: { quantity: 1 } })).status).toBe(200);

  const results = await Promise.all(users.map((u) => call(order.url, 'POST', '/checkout', { headers: buy(u) })));
  const created = results.filter((r) => r.status === 201);
  expect(created).toHaveLength(10);
  expect(results.filter((r) => r.status === 409 && r.body.error === 'out_of_stock')).toHaveLength(40);
  expect(await stockOf(db.pool, productId)).toBe(0);
  expect(created[0].body.order).toMatchObject({ status: 'pending', totalCents: 2500, items: [{ productId, quantity: 1, priceCents: 2500 }] });

  // Each order announced once on the stream; winners' carts are empty, losers keep theirs.
  const ids = new Set(created.map((r) => r.body.order.id as number));
  const entries = await redis.xrevrange(ORDER_STREAM, '+', '-', 'COUNT', 2000);
  const announced = entries.map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]).orderId as number).filter((id) => ids.has(id));
  expect(announced.sort()).toEqual([...ids].sort());
  const winner = created[0].body.order.userId as number;
  expect((await call(order.url, 'GET', '/cart', { headers: as(winner) })).body.items).toEqual([]);
});

test('cart, orders and payment belong to their user', async () => {
  const productId = await product(5, 1000);
  const me = userBase + 100;
  expect((await call(order.url, 'POST', '/checkout', { headers: buy(me) })).body.error).toBe('cart_empty');
  await call(order.url, 'PUT', `/cart/items/${productId}`, { headers: as(me), body: { quantity: 3 } });
  expect((await call(order.url, 'GET', '/cart', { headers: as(me) })).body.items).toEqual([{ productId, quantity: 3 }]);
  const placed = await call(order.url, 'POST', '/checkout', { headers: buy(me) });
  expect(placed.status).toBe(201);
  const id = placed.body.order.id;
  expect((await call(order.url, 'GET', `/orders/${id}`, { headers: as(me + 1) })).status).toBe(404);
  expect((await call(order.url, 'POST', `/orders/${id}/pay`, { headers: as(me + 1) })).status).toBe(404);
  expect((await call(order.url, 'GET', '/orders', { headers: as(me) })).body.orders.map((o: { id: number }) => o.id)).toEqual([id]);
  expect((await call(order.url, 'POST', `/orders/${id}/pay`, { headers: as(me) })).body.order.status).toBe('paid');
  expect((await call(order.url, 'POST', `/orders/${id}/pay`, { headers: as(me) })).status).toBe(409);
  expect((await call(order.url, 'GET', '/cart')).status).toBe(401);
  await call(order.url, 'PUT', `/cart/items/999999999999`, { headers: as(me), body: { quantity: 1 } });
  expect((await call(order.url, 'POST', '/checkout', { headers: buy(me) })).body.error).toBe('unknown_product');
});

test.each([
  ['PUT', '/cart/items/1', { quantity: -1 }, 'quantity'],
  ['PUT', '/cart/items/1', { quantity: 101 }, 'quantity'],
  ['PUT', '/cart/items/1', { quantity: '2' }, 'quantity'],
  ['PUT', '/cart/items/1', {}, 'quantity'],
  ['PUT', '/cart/items/abc', { quantity: 1 }, 'productId'],
  ['GET', '/orders/-5', undefined, 'id'],
  ['POST', '/orders/x/pay', undefined, 'id'],
])('%s %s %j is a 400 naming %s', async (method, path, body, field) => {
  const res = await call(order.url, method, path, { headers: as(userBase), body });
  expect(res.status).toBe(400);
  expect(res.body.message).toContain(field);
});

test('catalog unreachable: checkout answers a friendly 503 and the order service stays up', async () => {
  const productId = await product(5);
  const me = userBase + 200;
  await call(order.url, 'PUT', `/cart/items/${productId}`, { headers: as(me), body: { quantity: 1 } });
  await catalog.stop();
  await eventually(async () => order.ctx.registry!.instances(catalogName).length === 0);
  const res = await call(order.url, 'POST', '/checkout', { headers: buy(me) });
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ error: 'service_unavailable', message: `The ${catalogName} service is unavailable right now. Please try again in a moment.` });
  expect((await call(order.url, 'GET', '/healthz')).status).toBe(200);
  expect((await call(order.url, 'GET', '/cart', { headers: as(me) })).body.items).toHaveLength(1);
  expect(await stockOf(db.pool, productId)).toBe(5);
});
