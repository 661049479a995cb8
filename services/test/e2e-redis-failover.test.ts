jest.setTimeout(180_000);

import { randomUUID } from 'node:crypto';
import { redisSettled, seedProduct, stockOf, testRedis } from './data-engines';
import { engines } from './support/engines';
import { startStack, tally, type Account, type Stack } from './support/stack';

/**
 * Issue 11, item 3: a Redis Cluster master killed under a checkout loop gives no 5xx but the
 * service's own 503 + Retry-After, and nothing is lost; a held stock lock gives the order
 * service's 503 well before the gateway's upstream timeout, not the gateway's 504.
 */
let stack: Stack;
const redis = testRedis();
const restarts: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  stack = await startStack({ prefix: 'failover', instances: { order: 2 } });
});
afterAll(async () => {
  for (const r of restarts) await r().catch(() => undefined);
  await redisSettled(60_000).catch(() => undefined);
  await redis.quit();
  await stack?.stop();
});

interface Outcome {
  statuses: number[];
  orders: Set<number>;
  bad: string[];
}

/** Fills the cart and checks out, retrying the same request (same key) after a 503 / no answer. */
async function buyOnce(buyer: Account, productId: number, out: Outcome): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const put = await stack.api('PUT', `/api/order/cart/items/${productId}`, { token: buyer.token, body: { quantity: 1 } }).catch(() => undefined);
    out.statuses.push(put?.status ?? -1);
    if (put?.status === 200) break;
    if (put && put.status !== 503) out.bad.push(`PUT ${put.status} ${JSON.stringify(put.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const key = randomUUID();
  for (let attempt = 0; attempt < 60; attempt++) {
    const res = await stack.api('POST', '/api/order/checkout', { token: buyer.token, headers: { 'idempotency-key': key } }).catch(() => undefined);
    out.statuses.push(res?.status ?? -1);
    if (res?.status === 201) {
      out.orders.add(res.body.order.id);
      return;
    }
    // Retry later, with the same key: a dependency in failover, or the cart lock of an attempt
    // whose release the failover swallowed (it expires with its TTL).
    const later = res && (res.status === 503 || (res.status === 409 && res.body.error === 'checkout_in_progress'));
    if (res && !later) {
      out.bad.push(`POST ${res.status} ${JSON.stringify(res.body)}`);
      return;
    }
    if (res) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    await new Promise((r) => setTimeout(r, 250));
  }
  out.bad.push('checkout never succeeded');
}

test('a Redis master killed during a checkout loop: no 5xx but 503 + Retry-After, nothing lost', async () => {
  const productId = await seedProduct(stack.db.pool, 100_000);
  const buyers = await Promise.all(Array.from({ length: 6 }, () => stack.account()));
  // The master of the product's slot: every checkout takes its stock lock and drops its cache entry.
  const slot = Number(await redis.cluster('KEYSLOT', `lock:stock:{${productId}}`));
  const slots = (await redis.cluster('SLOTS')) as unknown as Array<[number, number, [string, number]]>;
  const masterPort = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];

  const out: Outcome = { statuses: [], orders: new Set(), bad: [] };
  let running = true;
  const workers = buyers.map(async (b) => {
    while (running) await buyOnce(b, productId, out);
  });
  await new Promise((r) => setTimeout(r, 1500));
  await engines('kill', 'redis', String(masterPort));
  restarts.push(() => engines('start', 'redis', String(masterPort)));
  await new Promise((r) => setTimeout(r, 8000));
  running = false;
  await Promise.all(workers);
  await engines('start', 'redis', String(masterPort));

  const [rows] = await stack.db.pool.query('SELECT COUNT(*) AS n, COALESCE(SUM(i.quantity), 0) AS q FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = ?', [productId]);
  const inMysql = rows as Array<{ n: number; q: number }>;
  console.log(`[item 3] Redis master ${masterPort} killed under checkouts: answers ${JSON.stringify(tally(out.statuses))}, orders answered ${out.orders.size}, in MySQL ${inMysql[0].n}, unexpected ${JSON.stringify(out.bad.slice(0, 5))}`);
  expect(out.bad).toEqual([]);
  expect(out.statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
  expect(out.orders.size).toBeGreaterThan(10);
  // Nothing lost, nothing extra: every order a client was told about is there, and only those.
  expect(Number(inMysql[0].n)).toBe(out.orders.size);
  expect(100_000 - (await stockOf(stack.db.pool, productId))).toBe(out.orders.size);
});

test('a stock lock held elsewhere: the order service answers its own 503 before the gateway times out', async () => {
  await redisSettled();
  const productId = await seedProduct(stack.db.pool, 10);
  const buyer = await stack.account();
  expect((await stack.api('PUT', `/api/order/cart/items/${productId}`, { token: buyer.token, body: { quantity: 1 } })).status).toBe(200);
  await redis.set(`lock:stock:{${productId}}`, 'held-by-a-test', 'PX', 20_000);
  try {
    const started = Date.now();
    const res = await stack.api('POST', '/api/order/checkout', { token: buyer.token, headers: { 'idempotency-key': randomUUID() } });
    const ms = Date.now() - started;
    console.log(`[item 3] checkout behind a held stock lock: ${res.status} ${res.body?.error} in ${ms} ms`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'service_unavailable', requestId: expect.any(String) });
    expect(res.body.service).toBeUndefined(); // the order service's answer, not the gateway's
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(ms).toBeLessThan(4500);
  } finally {
    await redis.del(`lock:stock:{${productId}}`);
  }
  expect(await stockOf(stack.db.pool, productId)).toBe(10);
});
