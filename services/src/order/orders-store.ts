/**
 * Orders in MySQL. Placing an order reserves stock with one conditional UPDATE per product
 * (`quantity >= ?`) inside the transaction that writes the order, so concurrent checkouts can
 * never drive stock below zero: the loser's UPDATE matches no row and its transaction rolls back.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { inTransaction, type Pool, type PoolConnection } from '../data/mysql';
import { addToOutbox } from '../data/outbox';
import { ORDER_STREAM } from '../data/events';

export class OutOfStockError extends Error {
  constructor(readonly productId: number) {
    super(`product ${productId} does not have enough stock`);
    this.name = 'OutOfStockError';
  }
}

/** The checkout's Idempotency-Key was used before (committed by another request). */
export class DuplicateCheckoutError extends Error {
  constructor() {
    super('this idempotency key was used for a checkout already');
    this.name = 'DuplicateCheckoutError';
  }
}

/** What a checkout under an Idempotency-Key left: its request's fingerprint and its order. */
export interface CheckoutRequest {
  readonly requestHash: string;
  readonly orderId: number | null;
}

/** A checkout's Idempotency-Key and the fingerprint of its request. */
export interface CheckoutKey {
  readonly key: string;
  readonly hash: string;
}

export interface OrderLine {
  productId: number;
  quantity: number;
  priceCents: number;
}

export type OrderStatus = 'pending' | 'paid' | 'cancelled';

export interface Order {
  id: number;
  userId: number;
  status: OrderStatus;
  totalCents: number;
  createdAt: string;
  items: OrderLine[];
}

const DEADLOCK = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/** Retries a transaction InnoDB chose as a deadlock victim; the work must be all-or-nothing. */
async function withDeadlockRetry<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await work();
    } catch (err) {
      if (i >= attempts || !DEADLOCK.has((err as { code?: string }).code ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 10 * i + Math.random() * 20));
    }
  }
}

/** Merges duplicate products and sorts by id, so every transaction locks rows in the same order. */
export function normalizeLines(lines: readonly OrderLine[]): OrderLine[] {
  const byId = new Map<number, OrderLine>();
  for (const l of lines) {
    const prev = byId.get(l.productId);
    byId.set(l.productId, prev ? { ...prev, quantity: prev.quantity + l.quantity } : { ...l });
  }
  return [...byId.values()].sort((a, b) => a.productId - b.productId);
}

/**
 * Reserves the stock and writes the order and its `order.created` outbox event in one
 * transaction; `eventId` is the outbox row to publish after commit (see data/outbox.ts).
 * With a `checkout` key, the key is claimed first in the same transaction: a concurrent checkout
 * under the same key waits for this one, then fails with {@link DuplicateCheckoutError} (and
 * reads the order with {@link findCheckoutRequest}); if this one rolls back, the other goes on.
 */
export async function placeOrder(pool: Pool, userId: number, lines: readonly OrderLine[], checkout?: CheckoutKey): Promise<Order & { eventId: number }> {
  const items = normalizeLines(lines);
  if (items.length === 0) throw new Error('an order needs at least one line');
  const totalCents = items.reduce((sum, l) => sum + l.quantity * l.priceCents, 0);
  return withDeadlockRetry(() =>
    inTransaction(pool, async (conn) => {
      if (checkout) {
        try {
          await conn.execute('INSERT INTO checkout_requests (user_id, idempotency_key, request_hash) VALUES (?, ?, ?)', [userId, checkout.key, checkout.hash]);
        } catch (err) {
          if ((err as { code?: string }).code === 'ER_DUP_ENTRY') throw new DuplicateCheckoutError();
          throw err;
        }
      }
      for (const l of items) {
        const [res] = await conn.execute<ResultSetHeader>(
          'UPDATE stock SET quantity = quantity - ?, version = version + 1 WHERE product_id = ? AND quantity >= ?',
          [l.quantity, l.productId, l.quantity],
        );
        if (res.affectedRows !== 1) throw new OutOfStockError(l.productId);
      }
      const [ins] = await conn.execute<ResultSetHeader>(
        "INSERT INTO orders (user_id, status, total_cents) VALUES (?, 'pending', ?)",
        [userId, totalCents],
      );
      const orderId = ins.insertId;
      await conn.query('INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ?', [
        items.map((l) => [orderId, l.productId, l.quantity, l.priceCents]),
      ]);
      const eventId = await addToOutbox(conn, ORDER_STREAM, 'order.created', {
        orderId,
        userId,
        items: items.map((l) => ({ productId: l.productId, quantity: l.quantity })),
      });
      if (checkout) {
        await conn.execute('UPDATE checkout_requests SET order_id = ? WHERE user_id = ? AND idempotency_key = ?', [orderId, userId, checkout.key]);
      }
      return { id: orderId, userId, status: 'pending' as const, totalCents, createdAt: new Date().toISOString(), items, eventId };
    }),
  );
}

/**
 * Cancels a pending order and puts its stock back, once: the status flip is conditional, so a
 * second caller (a retried job, another shard) changes nothing. Returns the restored lines and
 * the `order.cancelled` outbox event written with them.
 */
export async function cancelPendingOrder(pool: Pool, orderId: number): Promise<{ items: OrderLine[]; eventId: number } | undefined> {
  return withDeadlockRetry(() =>
    inTransaction(pool, async (conn) => {
      const [res] = await conn.execute<ResultSetHeader>(
        "UPDATE orders SET status = 'cancelled' WHERE id = ? AND status = 'pending'",
        [orderId],
      );
      if (res.affectedRows !== 1) return undefined;
      const items = await itemsOf(conn, orderId);
      for (const l of items) {
        await conn.execute('UPDATE stock SET quantity = quantity + ?, version = version + 1 WHERE product_id = ?', [
          l.quantity,
          l.productId,
        ]);
      }
      const eventId = await addToOutbox(conn, ORDER_STREAM, 'order.cancelled', {
        orderId,
        items: items.map((l) => ({ productId: l.productId, quantity: l.quantity })),
      });
      return { items, eventId };
    }),
  );
}

/** The checkout a user made under `key`, if any. */
export async function findCheckoutRequest(pool: Pool, userId: number, key: string): Promise<CheckoutRequest | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(
    'SELECT request_hash, order_id FROM checkout_requests WHERE user_id = ? AND idempotency_key = ?',
    [userId, key],
  );
  const r = rows[0];
  return r ? { requestHash: String(r.request_hash), orderId: r.order_id === null ? null : Number(r.order_id) } : undefined;
}

/** Forgets Idempotency-Keys older than `days` (a repeat that late is a new checkout). */
export async function pruneCheckoutRequests(pool: Pool, days = 7): Promise<number> {
  const [res] = await pool.execute<ResultSetHeader>('DELETE FROM checkout_requests WHERE created_at < NOW(3) - INTERVAL ? DAY LIMIT 10000', [days]);
  return res.affectedRows;
}

/** Marks a pending order paid; false if it was not pending (already paid, or cancelled). */
export async function markPaid(pool: Pool, orderId: number, userId: number): Promise<boolean> {
  const [res] = await pool.execute<ResultSetHeader>(
    "UPDATE orders SET status = 'paid' WHERE id = ? AND user_id = ? AND status = 'pending'",
    [orderId, userId],
  );
  return res.affectedRows === 1;
}

async function itemsOf(conn: Pool | PoolConnection, orderId: number): Promise<OrderLine[]> {
  const [rows] = await conn.execute<RowDataPacket[]>(
    'SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ? ORDER BY product_id',
    [orderId],
  );
  return rows.map((r) => ({ productId: Number(r.product_id), quantity: Number(r.quantity), priceCents: Number(r.price_cents) }));
}

export async function getOrder(pool: Pool, orderId: number): Promise<Order | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(
    'SELECT id, user_id, status, total_cents, created_at FROM orders WHERE id = ?',
    [orderId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: Number(r.id),
    userId: Number(r.user_id),
    status: r.status as OrderStatus,
    totalCents: Number(r.total_cents),
    createdAt: new Date(r.created_at as Date).toISOString(),
    items: await itemsOf(pool, orderId),
  };
}

/** Ids of pending orders older than `olderThanMs` in this shard (id mod shards = index). */
export async function expiredPendingOrderIds(
  pool: Pool,
  olderThanMs: number,
  shard: { index: number; count: number },
  limit = 500,
  afterId = 0,
): Promise<number[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT id FROM orders
      WHERE status = 'pending' AND created_at < (NOW(3) - INTERVAL ? MICROSECOND)
        AND MOD(id, ?) = ? AND id > ?
      ORDER BY id LIMIT ?`,
    [olderThanMs * 1000, shard.count, shard.index, afterId, limit],
  );
  return rows.map((r) => Number(r.id));
}

export async function listOrders(pool: Pool, userId: number, limit = 50): Promise<Omit<Order, 'items'>[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT id, user_id, status, total_cents, created_at FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?',
    [userId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    userId: Number(r.user_id),
    status: r.status as OrderStatus,
    totalCents: Number(r.total_cents),
    createdAt: new Date(r.created_at as Date).toISOString(),
  }));
}
