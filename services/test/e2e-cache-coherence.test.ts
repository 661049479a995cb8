jest.setTimeout(120_000);

import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { seedProduct, stockOf } from './data-engines';
import { startStack, type Stack } from './support/stack';

/**
 * Issue 11, item 1: every stock change (checkout, the order-timeout job's cancellation) reaches
 * what the product cache serves, at once, not after the cache TTL.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ prefix: 'cache' });
});
afterAll(() => stack?.stop());

const page = async (productId: number) => {
  const res = await stack.api('GET', `/api/catalog/public/products/${productId}`);
  expect(res.status).toBe(200);
  return { stock: res.body.product.stock as number, cache: res.headers.get('x-cache') };
};
const batch = async (productId: number) => (await stack.api('GET', `/api/catalog/public/products?ids=${productId}`)).body.products[0].stock as number;

async function checkout(token: string, productId: number, quantity: number) {
  expect((await stack.api('PUT', `/api/order/cart/items/${productId}`, { token, body: { quantity } })).status).toBe(200);
  const res = await stack.api('POST', '/api/order/checkout', { token, headers: { 'idempotency-key': randomUUID() } });
  expect(res.status).toBe(201);
  return res.body.order as { id: number };
}

function runJob(service: string, extra: NodeJS.ProcessEnv): Promise<number | null> {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...stack.env, SERVICE: service, LOG_LEVEL: 'warn', ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

test('the product page shows what a checkout left, at once; and what the order-timeout job put back', async () => {
  const productId = await seedProduct(stack.db.pool, 10);
  await page(productId);
  expect(await page(productId)).toEqual({ stock: 10, cache: 'hit' });

  const buyer = await stack.account();
  const order = await checkout(buyer.token, productId, 2);
  const afterCheckout = await page(productId);
  console.log(`[item 1] product page after checkout: stock ${afterCheckout.stock} (batch read ${await batch(productId)}, MySQL ${await stockOf(stack.db.pool, productId)})`);
  expect(afterCheckout.stock).toBe(8);
  expect(await batch(productId)).toBe(8);
  expect(await page(productId)).toEqual({ stock: 8, cache: 'hit' });

  // 31 minutes later, unpaid: the job cancels the order and restores the stock.
  await stack.db.pool.execute('UPDATE orders SET created_at = NOW(3) - INTERVAL 31 MINUTE WHERE id = ?', [order.id]);
  expect(await runJob('order-timeout', { JOB_COMPLETIONS: '1', JOB_COMPLETION_INDEX: '0' })).toBe(0);
  expect(await stockOf(stack.db.pool, productId)).toBe(10);
  const afterTimeout = await page(productId);
  console.log(`[item 1] product page after the order-timeout job: stock ${afterTimeout.stock} (MySQL 10)`);
  expect(afterTimeout.stock).toBe(10);
});

test('readers racing concurrent checkouts never leave a stale entry behind', async () => {
  const productId = await seedProduct(stack.db.pool, 40);
  const buyers = await Promise.all(Array.from({ length: 8 }, () => stack.account()));
  let reading = true;
  const readers = Array.from({ length: 4 }, async () => {
    while (reading) await page(productId);
  });
  await Promise.all(buyers.map(async (b) => {
    for (let i = 0; i < 2; i++) await checkout(b.token, productId, 1);
  }));
  reading = false;
  await Promise.all(readers);
  const mysql = await stockOf(stack.db.pool, productId);
  const served = await page(productId);
  console.log(`[item 1] after 16 checkouts raced by readers: page ${served.stock}, MySQL ${mysql}`);
  expect(mysql).toBe(24);
  expect(served.stock).toBe(24);
});
