/**
 * search-sync: keeps the product search index in step with MySQL.
 *  - full: rebuild into a new index and swap the alias (nightly, and the cure for any drift);
 *  - incremental: consume the order and product streams; for each event re-read the products it
 *    touches from MySQL and write them with their row version. Acknowledged only after the write;
 *    a redelivered event finds the index at that version already and changes nothing.
 */
import type { Pool } from '../data/mysql';
import type { WriteResult } from '../catalog/product-search';
import type { RedisClient } from '../data/redis-lock';
import { StreamConsumer, type StreamEvent } from '../data/streams';
import { allProducts, getProducts, toSearchDoc } from '../catalog/products-store';
import { ORDER_STREAM, PRODUCT_STREAM, productIdsOf } from '../data/events';
import { createOpenSearchClient } from '../data/opensearch';
import { ProductSearchIndex } from '../catalog/product-search';
import { loadConfig } from '../kit/config';
import { searchSyncEnv, searchSyncRules } from './env';
import { runJob } from './runtime';

export const SEARCH_SYNC_GROUP = 'search-sync';

export async function fullReindex(pool: Pool, index: ProductSearchIndex): Promise<{ index: string; count: number }> {
  const startedAt = new Date(Date.now() - 1000);
  async function* docs(since?: Date) {
    for await (const page of allProducts(pool, 500, since)) yield page.map(toSearchDoc);
  }
  return index.reindex(docs(), () => docs(startedAt));
}

/** Re-reads the event's products and writes them; products gone from MySQL leave the index. */
export async function applyEvent(pool: Pool, index: ProductSearchIndex, event: StreamEvent): Promise<WriteResult> {
  const ids = productIdsOf(event.data);
  if (ids.length === 0) return { applied: 0, stale: 0, deleted: 0 };
  const products = await getProducts(pool, ids);
  const found = new Set(products.map((p) => p.id));
  return index.write(products.map(toSearchDoc), ids.filter((id) => !found.has(id)));
}

export interface SearchSyncOptions {
  pool: Pool;
  redis: RedisClient;
  index: ProductSearchIndex;
  consumer: string;
  streams?: string[];
  batchSize?: number;
  blockMs?: number;
  minIdleMs?: number;
  onApplied?: (event: StreamEvent, result: WriteResult) => void;
  onError?: (err: unknown, event?: StreamEvent) => void;
}

export function searchSyncConsumers(opts: SearchSyncOptions): StreamConsumer[] {
  return (opts.streams ?? [ORDER_STREAM, PRODUCT_STREAM]).map(
    (stream) =>
      new StreamConsumer({
        redis: opts.redis,
        stream,
        group: SEARCH_SYNC_GROUP,
        consumer: opts.consumer,
        batchSize: opts.batchSize,
        blockMs: opts.blockMs,
        minIdleMs: opts.minIdleMs,
        onError: opts.onError,
        handle: async (event) => {
          const result = await applyEvent(opts.pool, opts.index, event);
          opts.onApplied?.(event, result);
        },
      }),
  );
}

/**
 * Entry of `SERVICE=search-sync`. SEARCH_SYNC_MODE: `full` (nightly CronJob: rebuild + alias
 * swap), `drain` (apply every pending event, then exit), `follow` (long-running consumer).
 */
export async function start(): Promise<void> {
  // Every variable of the job at once: one error naming each bad one, before connecting anywhere.
  const c = loadConfig(searchSyncEnv, process.env, searchSyncRules);
  const mode = c.SEARCH_SYNC_MODE;
  await runJob('search-sync', async ({ pool, redis, instance, log, stopping }) => {
    const client = createOpenSearchClient();
    const index = new ProductSearchIndex(client, c.SEARCH_INDEX_ALIAS);
    try {
      if (mode === 'full') return await fullReindex(pool, index);
      await index.ensure();
      const totals = { applied: 0, stale: 0, events: 0 };
      const consumersOn = (r: RedisClient, streams?: string[]) =>
        searchSyncConsumers({
          pool,
          redis: r,
          index,
          consumer: instance,
          streams,
          minIdleMs: c.SEARCH_SYNC_MIN_IDLE_MS,
          onApplied: (event, result) => {
            totals.events++;
            totals.applied += result.applied;
            totals.stale += result.stale;
            log.debug({ id: event.id, type: event.type, ...result }, 'event applied');
          },
          onError: (err, event) => log.warn({ err: (err as Error).message, id: event?.id }, 'event not applied; it stays pending'),
        });
      if (mode === 'drain') {
        for (const c of consumersOn(redis)) await c.drain();
        return totals;
      }
      // A blocking read holds its connection: each followed stream gets its own client.
      const clients = [ORDER_STREAM, PRODUCT_STREAM].map(() => redis.duplicate());
      const consumers = [ORDER_STREAM, PRODUCT_STREAM].flatMap((stream, i) => consumersOn(clients[i], [stream]));
      for (const c of consumers) c.start();
      await stopping;
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
      return totals;
    } finally {
      await client.close();
    }
  });
}
