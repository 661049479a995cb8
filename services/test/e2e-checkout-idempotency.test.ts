jest.setTimeout(120_000);

import { randomUUID } from 'node:crypto';
import { seedProduct, stockOf } from './data-engines';
import { startStack, tally, type Account, type Stack } from './support/stack';

/**
 * Issue 11, item 2: one cart, concurrent checkouts with the same token give one order; a retried
 * or double-clicked checkout returns the first order; another body under the same key is a 422.
 */
let stack: Stack;
beforeAll(async () => {
  // Two order instances: the concurrent requests land on both.
  stack = await startStack({ prefix: 'idem', instances: { order: 2 } });
});
afterAll(() => stack?.stop());

const ordersOf = async (userId: number) =>
  ((await stack.db.pool.query('SELECT id FROM orders WHERE user_id = ?', [userId]))[0] as { id: number }[]).map((r) => Number(r.id));

async function fill(buyer: Account, productId: number, quantity: number) {
  expect((await stack.api('PUT', `/api/order/cart/items/${productId}`, { token: buyer.token, body: { quantity } })).status).toBe(200);
}
const checkout = (buyer: Account, key?: string, body?: unknown) =>
  stack.api('POST', '/api/order/checkout', { token: buyer.token, body, headers: key ? { 'idempotency-key': key } : {} });

test('five concurrent checkouts of one cart with one key: one order, the same order in every answer', async () => {
  const productId = await seedProduct(stack.db.pool, 100);
  const buyer = await stack.account();
  await fill(buyer, productId, 2);
  const key = randomUUID();
  const results = await Promise.all(Array.from({ length: 5 }, () => checkout(buyer, key)));
  const orders = await ordersOf(buyer.id);
  console.log(`[item 2] 5 concurrent checkouts, one key: answers ${JSON.stringify(tally(results.map((r) => r.status)))}, orders ${orders.length}, stock ${await stockOf(stack.db.pool, productId)}/100`);
  expect(orders).toHaveLength(1);
  expect(await stockOf(stack.db.pool, productId)).toBe(98);
  expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
  expect(new Set(results.map((r) => r.body.order.id))).toEqual(new Set(orders));
  expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);

  // A retry long after: the first order again (the cart is long empty).
  const retry = await checkout(buyer, key);
  expect(retry.status).toBe(201);
  expect(retry.body.order.id).toBe(orders[0]);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  // The same key with another body is a client error, not another order.
  const other = await checkout(buyer, key, { items: [{ productId, quantity: 5 }] });
  expect(other.status).toBe(422);
  expect(other.body).toMatchObject({ error: 'idempotency_key_reused', requestId: expect.any(String) });
  expect(await ordersOf(buyer.id)).toHaveLength(1);
});

test('five concurrent checkouts of one cart, each with its own key (double clicks): one order', async () => {
  const productId = await seedProduct(stack.db.pool, 100);
  const buyer = await stack.account();
  await fill(buyer, productId, 1);
  const results = await Promise.all(Array.from({ length: 5 }, () => checkout(buyer, randomUUID())));
  const orders = await ordersOf(buyer.id);
  console.log(`[item 2] 5 concurrent checkouts, 5 keys: answers ${JSON.stringify(tally(results.map((r) => r.status)))}, orders ${orders.length}`);
  expect(orders).toHaveLength(1);
  expect(await stockOf(stack.db.pool, productId)).toBe(99);
  expect(results.filter((r) => r.status === 201)).toHaveLength(1);
  for (const r of results.filter((x) => x.status !== 201)) {
    expect(r.status).toBe(409);
    expect(['cart_empty', 'checkout_in_progress']).toContain(r.body.error);
  }
});

test('the key is required, well-formed, and scoped to its user; items, when given, must match the cart', async () => {
  const productId = await seedProduct(stack.db.pool, 100);
  const [a, b] = [await stack.account(), await stack.account()];
  await fill(a, productId, 1);
  await fill(b, productId, 3);
  const missing = await checkout(a);
  expect(missing.status).toBe(400);
  expect(missing.body).toMatchObject({ error: 'idempotency_key_required' });
  expect((await checkout(a, 'x'.repeat(300))).status).toBe(400);
  const changed = await checkout(a, randomUUID(), { items: [{ productId, quantity: 2 }] });
  expect(changed.status).toBe(409);
  expect(changed.body).toMatchObject({ error: 'cart_changed', items: [{ productId, quantity: 1 }] });
  const key = randomUUID();
  const first = await checkout(a, key, { items: [{ productId, quantity: 1 }] });
  expect(first.status).toBe(201);
  const sameKeyOtherUser = await checkout(b, key);
  expect(sameKeyOtherUser.status).toBe(201);
  expect(sameKeyOtherUser.body.order.id).not.toBe(first.body.order.id);
  expect(sameKeyOtherUser.body.order.items).toEqual([expect.objectContaining({ productId, quantity: 3 })]);
});
