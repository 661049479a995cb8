import { cancelPendingOrder, getOrder, OutOfStockError, placeOrder } from '../src/order/orders-store';
import { freshDatabase, seedProduct, stockOf, type TestDatabase } from './data-engines';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('stock');
});
afterAll(() => db?.drop());

test('50 concurrent checkouts on stock 10: exactly 10 succeed and stock ends at 0', async () => {
  const productId = await seedProduct(db.pool, 10);
  const results = await Promise.allSettled(
    Array.from({ length: 50 }, (_, i) => placeOrder(db.pool, 1000 + i, [{ productId, quantity: 1, priceCents: 500 }])),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(ok).toHaveLength(10);
  expect(failed.every((r) => r.reason instanceof OutOfStockError)).toBe(true);
  expect(await stockOf(db.pool, productId)).toBe(0);
});

test('a multi-line order is all or nothing', async () => {
  const a = await seedProduct(db.pool, 5);
  const b = await seedProduct(db.pool, 1);
  await expect(
    placeOrder(db.pool, 7, [
      { productId: a, quantity: 2, priceCents: 100 },
      { productId: b, quantity: 2, priceCents: 100 },
    ]),
  ).rejects.toBeInstanceOf(OutOfStockError);
  expect(await stockOf(db.pool, a)).toBe(5);
  expect(await stockOf(db.pool, b)).toBe(1);
});

test('opposite line orders do not deadlock, and cancelling restores stock exactly once', async () => {
  const a = await seedProduct(db.pool, 100);
  const b = await seedProduct(db.pool, 100);
  const orders = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      placeOrder(db.pool, i, i % 2
        ? [{ productId: a, quantity: 1, priceCents: 1 }, { productId: b, quantity: 2, priceCents: 1 }]
        : [{ productId: b, quantity: 2, priceCents: 1 }, { productId: a, quantity: 1, priceCents: 1 }]),
    ),
  );
  expect(await stockOf(db.pool, a)).toBe(80);
  expect(await stockOf(db.pool, b)).toBe(60);
  const first = orders[0].id;
  const [once, twice] = await Promise.all([cancelPendingOrder(db.pool, first), cancelPendingOrder(db.pool, first)]);
  expect([once, twice].filter(Boolean)).toHaveLength(1);
  expect(await stockOf(db.pool, a)).toBe(81);
  expect(await stockOf(db.pool, b)).toBe(62);
  expect((await getOrder(db.pool, first))?.status).toBe('cancelled');
});
