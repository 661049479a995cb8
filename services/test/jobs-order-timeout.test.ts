import { runOrderTimeout, shardFromEnv } from '../src/jobs/order-timeout';
import { ORDER_STREAM } from '../src/data/events';
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

test('an order event that could not be published at checkout is relayed once by shard 0', async () => {
  const product = await seedProduct(db.pool, 5);
  // placeOrder commits the order with its outbox row; nobody publishes it (Redis was "down").
  const order = await placeOrder(db.pool, 77, [{ productId: product, quantity: 1, priceCents: 10 }]);
  await db.pool.execute('UPDATE event_outbox SET created_at = NOW(3) - INTERVAL 1 MINUTE WHERE id = ?', [order.eventId]);
  const announced = async () =>
    (await redis.xrevrange(ORDER_STREAM, '+', '-', 'COUNT', 5000)).filter(([, f]) => {
      const data = JSON.parse(f[f.indexOf('data') + 1]) as { orderId: number };
      return f[f.indexOf('type') + 1] === 'order.created' && data.orderId === order.id;
    }).length;
  expect(await announced()).toBe(0);
  expect((await runOrderTimeout({ pool: db.pool, redis, shard: { index: 1, count: 2 } })).relayed).toBe(0);
  expect((await runOrderTimeout({ pool: db.pool, redis, shard: { index: 0, count: 2 } })).relayed).toBe(1);
  expect((await runOrderTimeout({ pool: db.pool, redis, shard: { index: 0, count: 2 } })).relayed).toBe(0);
  expect(await announced()).toBe(1);
});
