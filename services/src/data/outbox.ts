/**
 * Transactional outbox: an event is written in the same MySQL transaction as the change it
 * announces, then published to its Redis Stream after commit. If Redis is down or the process
 * dies in between, `relayOutbox` (run by the order-timeout job every minute) publishes it later,
 * so a committed order is never left unannounced. Publishing is at least once; consumers are
 * idempotent (search-sync writes versioned documents).
 *
 * Order events change stock: publishing one first drops the product cache entries of its items
 * (data/product-cache.ts), so the product page shows the new stock at once, and a publish that
 * failed leaves both the event and the invalidation to the relay.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ORDER_STREAM, productIdsOf } from './events';
import type { Pool, PoolConnection } from './mysql';
import { invalidateProducts } from './product-cache';
import type { RedisClient } from './redis-lock';
import { publishEvent } from './streams';

export async function addToOutbox(conn: PoolConnection, stream: string, type: string, data: unknown): Promise<number> {
  const [res] = await conn.execute<ResultSetHeader>('INSERT INTO event_outbox (stream, type, payload) VALUES (?, ?, ?)', [
    stream,
    type,
    JSON.stringify(data),
  ]);
  return res.insertId;
}

/** Publishes the given outbox rows that are still unpublished; returns how many it published. */
export async function publishOutbox(pool: Pool, redis: RedisClient, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT id, stream, type, payload FROM event_outbox WHERE id IN (?) AND published_at IS NULL ORDER BY id',
    [ids],
  );
  let published = 0;
  for (const r of rows) {
    const data: unknown = JSON.parse(r.payload);
    if (r.stream === ORDER_STREAM) await invalidateProducts(redis, productIdsOf(data));
    await publishEvent(redis, r.stream, r.type, data);
    await pool.execute('UPDATE event_outbox SET published_at = NOW(3) WHERE id = ? AND published_at IS NULL', [r.id]);
    published++;
  }
  return published;
}

/** Publishes events left unpublished for longer than `olderThanMs`; returns how many. */
export async function relayOutbox(pool: Pool, redis: RedisClient, olderThanMs = 10_000, limit = 1000): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT id FROM event_outbox WHERE published_at IS NULL AND created_at < NOW(3) - INTERVAL ? MICROSECOND ORDER BY id LIMIT ?',
    [olderThanMs * 1000, limit],
  );
  return publishOutbox(pool, redis, rows.map((r) => Number(r.id)));
}

/** Drops published rows older than `days` (the stream has them; MySQL need not keep them). */
export async function pruneOutbox(pool: Pool, days = 7): Promise<number> {
  const [res] = await pool.execute<ResultSetHeader>(
    'DELETE FROM event_outbox WHERE published_at IS NOT NULL AND published_at < NOW(3) - INTERVAL ? DAY LIMIT 10000',
    [days],
  );
  return res.affectedRows;
}
