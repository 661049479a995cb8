jest.setTimeout(120_000);

import { randomUUID } from 'node:crypto';
import { engineEnv, seedProduct } from './data-engines';
import { call, eventually } from './data-services';
import { startStack, type Stack } from './support/stack';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';

/**
 * Issue 11, items 5 and 6. The services reach MySQL through a proxy this file owns, so the fault
 * touches nothing another test run shares: `down` is a stopped MySQL (connections refused),
 * `freeze` a SIGSTOPped one (connections accepted, nothing answered).
 */
let stack: Stack;
let mysql: TcpProxy;
beforeAll(async () => {
  mysql = await startTcpProxy(Number(engineEnv().MYSQL_PORT ?? 23306));
  stack = await startStack({ prefix: 'outage', instances: { catalog: 2, order: 2 }, env: { MYSQL_PORT: String(mysql.port) } });
});
afterAll(async () => {
  await mysql?.set('pass');
  await stack?.stop();
  await mysql?.close();
});

test('MySQL down: the cart and cached product pages still work; what needs MySQL is the service\'s own 503', async () => {
  const cached = await seedProduct(stack.db.pool, 7);
  const uncached = await seedProduct(stack.db.pool, 3);
  const buyer = await stack.account();
  expect((await stack.api('GET', `/api/catalog/public/products/${cached}`)).status).toBe(200);
  expect((await stack.api('PUT', `/api/order/cart/items/${cached}`, { token: buyer.token, body: { quantity: 1 } })).status).toBe(200);

  await mysql.set('down');
  try {
    // Several readiness polls (READINESS_POLL_MS 200): time for instances to leave the registry if they would.
    await new Promise((r) => setTimeout(r, 1500));
    const cart = await stack.api('GET', '/api/order/cart', { token: buyer.token });
    const put = await stack.api('PUT', `/api/order/cart/items/${uncached}`, { token: buyer.token, body: { quantity: 2 } });
    const page = await stack.api('GET', `/api/catalog/public/products/${cached}`);
    const miss = await stack.api('GET', `/api/catalog/public/products/${uncached}`);
    const orders = await stack.api('GET', '/api/order/orders', { token: buyer.token });
    console.log(`[item 5] MySQL down: GET cart ${cart.status} ${cart.body.error ?? ''}, PUT cart ${put.status}, cached product ${page.status}, uncached product ${miss.status} ${miss.body.error} (${miss.body.message}), orders ${orders.status}`);
    expect(cart.status).toBe(200);
    expect(cart.body.items).toEqual([{ productId: cached, quantity: 1 }]);
    expect(put.status).toBe(200);
    expect(page.status).toBe(200);
    expect(page.body.product.stock).toBe(7);
    for (const res of [miss, orders]) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body).toMatchObject({ error: 'service_unavailable', message: expect.stringContaining('database'), requestId: expect.any(String) });
      expect(res.body.service).toBeUndefined(); // the service's answer, not the gateway's "no instance"
    }
    expect(stack.gateway.ctx.registry!.instances('order')).toHaveLength(2);
    // An instance started during the outage cannot migrate, but is ready for what needs no MySQL.
    const late = await stack.add('catalog');
    try {
      expect((await call(late.url, 'GET', `/public/products/${cached}`)).status).toBe(200);
      expect((await call(late.url, 'GET', '/readyz')).body).toMatchObject({ ready: true, checks: { schema: 'ok', mysql: expect.not.stringMatching(/^ok$/) } });
    } finally {
      await late.stop();
      stack.instances.splice(stack.instances.indexOf(late), 1);
    }
  } finally {
    await mysql.set('pass');
  }
});

test('MySQL frozen: a fast 503 from the service, well within the gateway\'s timeout; back to normal after', async () => {
  // Every instance listed and answering again after the previous test's outage.
  await eventually(async () => (['user', 'catalog', 'order'] as const).every((s) => stack.gateway.ctx.registry!.instances(s).length === (s === 'user' ? 1 : 2))
    && (await stack.api('GET', '/api/catalog/public/products?ids=1')).status === 200, 20_000);
  const productId = await seedProduct(stack.db.pool, 5);
  const buyer = await stack.account();
  expect((await stack.api('PUT', `/api/order/cart/items/${productId}`, { token: buyer.token, body: { quantity: 1 } })).status).toBe(200);
  await mysql.set('freeze');
  try {
    const timed = async (method: string, path: string, headers: Record<string, string> = {}) => {
      const started = Date.now();
      const res = await stack.api(method, path, { token: buyer.token, headers });
      return { res, ms: Date.now() - started };
    };
    const results = [
      await timed('GET', `/api/catalog/public/products/${productId}`),
      await timed('GET', `/api/catalog/public/products?ids=${productId}`),
      await timed('GET', '/api/order/orders'),
      await timed('POST', '/api/order/checkout', { 'idempotency-key': randomUUID() }),
    ];
    console.log(`[item 6] MySQL frozen: ${results.map((r) => `${r.res.status} ${r.res.body.error} in ${r.ms} ms`).join('; ')}`);
    for (const { res, ms } of results) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'service_unavailable', requestId: expect.any(String) });
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(ms).toBeLessThan(3000);
    }
  } finally {
    await mysql.set('pass');
  }
  // Thawed: everything answers again (the connections that timed out were replaced).
  const again = await stack.api('GET', `/api/catalog/public/products?ids=${productId}`);
  expect(again.status).toBe(200);
  const checkout = await stack.api('POST', '/api/order/checkout', { token: buyer.token, headers: { 'idempotency-key': randomUUID() } });
  expect(checkout.status).toBe(201);
});
