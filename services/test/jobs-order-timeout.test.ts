import { runOrderTimeout, shardFromEnv } from '../src/jobs/order-timeout';
import { getOrder, placeOrder } from '../src/order/orders-store';
import { freshDatabase, seedProduct, stockOf, testRedis, type TestDatabase } from './data-engines';

let db: TestDatabase;
const redis = testRedis();
beforeAll(async () => {
  db = await freshDatabase('timeout');
});
afterAll(async () => {
  await db?.drop();
  await redis.quit();
});

async function age(orderId: number, minutes: number) {
  await db.pool.execute('UPDATE orders SET created_at = NOW(3) - INTERVAL ? MINUTE WHERE id = ?', [minutes, orderId]);
}

test('shards cancel only old pending orders, each exactly once, and restore their stock', async () => {
  const product = await seedProduct(db.pool, 100);
  const orders = [];
  for (let i = 0; i < 9; i++) orders.push(await placeOrder(db.pool, i, [{ productId: product, quantity: 2, priceCents: 10 }]));
  for (const o of orders.slice(0, 6)) await age(o.id, 31);
  await age(orders[6].id, 29); // inside the payment window
  await db.pool.execute("UPDATE orders SET status = 'paid' WHERE id = ?", [orders[0].id]);
  expect(await stockOf(db.pool, product)).toBe(82);

  // Three shards, and each shard run twice (a retried pod): no order may be cancelled twice.
  const runs = await Promise.all(
    [0, 1, 2, 0, 1, 2].map((index) => runOrderTimeout({ pool: db.pool, redis, shard: { index, count: 3 } })),
  );
  expect(runs.reduce((n, r) => n + r.cancelled, 0)).toBe(5);
  expect(await stockOf(db.pool, product)).toBe(92);
  const statuses = await Promise.all(orders.map(async (o) => (await getOrder(db.pool, o.id))?.status));
  expect(statuses).toEqual(['paid', 'cancelled', 'cancelled', 'cancelled', 'cancelled', 'cancelled', 'pending', 'pending', 'pending']);
});

test('the shard comes from the indexed Job variables, validated', () => {
  expect(shardFromEnv({})).toEqual({ index: 0, count: 1 });
  expect(shardFromEnv({ JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '3' })).toEqual({ index: 2, count: 3 });
  expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '3' })).toThrow(/JOB_COMPLETION_INDEX/);
  expect(() => shardFromEnv({ JOB_COMPLETIONS: '0' })).toThrow(/JOB_COMPLETIONS/);
});
