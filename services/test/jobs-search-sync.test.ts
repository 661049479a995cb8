jest.setTimeout(60_000);

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { getProducts } from '../src/catalog/products-store';
import { createOpenSearchClient } from '../src/data/opensearch';
import { ProductSearchIndex } from '../src/catalog/product-search';
import { publishEvent } from '../src/data/streams';
import { fullReindex, searchSyncConsumers, SEARCH_SYNC_GROUP } from '../src/jobs/search-sync';
import { ORDER_STREAM, PRODUCT_STREAM } from '../src/data/events';
import { engineEnv, freshDatabase, seedProduct, testRedis, uniqueName, type TestDatabase } from './data-engines';
import { eventually } from './data-services';

let db: TestDatabase;
const redis = testRedis();
const os = createOpenSearchClient(engineEnv());
const alias = uniqueName('sync-test').toLowerCase();
const index = new ProductSearchIndex(os, alias);

beforeAll(async () => {
  db = await freshDatabase('sync');
});
afterAll(async () => {
  await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await os.close();
  await redis.quit();
  await db?.drop();
});

async function indexedVersions(ids: number[]): Promise<Map<number, number>> {
  await index.refresh();
  const res = await os.mget({ index: alias, body: { ids: ids.map(String) } });
  const docs = (res.body as { docs: { found: boolean; _source?: { id: number; version: number } }[] }).docs;
  return new Map(docs.filter((d) => d.found).map((d) => [d._source!.id, d._source!.version]));
}

test('instances starting together create one first index behind the alias', async () => {
  const fresh = new ProductSearchIndex(os, `${alias}-race`);
  await Promise.all([fresh.ensure(), fresh.ensure(), fresh.ensure()]);
  expect(await fresh.indicesBehindAlias()).toEqual([`${alias}-race-initial`]);
  await os.indices.delete({ index: `${alias}-race-initial` });
});

test('full reindex builds a new index and swaps the alias atomically; old indices go away', async () => {
  const ids = [await seedProduct(db.pool, 3, { name: 'Kayak' }), await seedProduct(db.pool, 0, { name: 'Paddle' })];
  await index.ensure();
  const before = await index.indicesBehindAlias();
  const first = await fullReindex(db.pool, index);
  expect(first.count).toBe(2);
  expect(await index.indicesBehindAlias()).toEqual([first.index]);
  expect(before).not.toContain(first.index);
  expect((await os.indices.exists({ index: before[0] })).body).toBe(false);

  await db.pool.execute('UPDATE stock SET quantity = 7, version = version + 1 WHERE product_id = ?', [ids[1]]);
  const second = await fullReindex(db.pool, index);
  expect(await index.indicesBehindAlias()).toEqual([second.index]);
  const page = await index.search({ q: 'paddle' });
  expect(page.items.map((d) => [d.name, d.stock, d.inStock])).toEqual([['Paddle', 7, true]]);
});

test('a consumer SIGKILLed mid-batch, restarted, applies every event exactly once', async () => {
  await index.ensure();
  const stream = uniqueName('stream:products-test');
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) ids.push(await seedProduct(db.pool, i, { name: `Item ${i}` }));
  for (const id of ids) await publishEvent(redis, stream, 'product.changed', { productId: id });

  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'test/jobs-search-sync-crash.child.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...engineEnv(), MYSQL_DATABASE: db.settings.database, SEARCH_INDEX_ALIAS: alias, STREAM: stream, CONSUMER: 'sync-0', CRASH_AFTER: '7' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const signal = await new Promise((r) => child.once('exit', (_code, sig) => r(sig)));
  expect(signal).toBe('SIGKILL');
  const before = out.trim().split('\n').map((l) => JSON.parse(l) as { applied: number });
  expect(before.reduce((n, r) => n + r.applied, 0)).toBe(7);
  const [pendingCount] = (await redis.xpending(stream, SEARCH_SYNC_GROUP)) as [number];
  expect(pendingCount).toBe(4); // the 7th (written, never acked) and the 3 after it in the batch of 10

  // Restarted under the same name: it re-reads its own pending entries first.
  const totals = { applied: 0, stale: 0 };
  const [consumer] = searchSyncConsumers({
    pool: db.pool, redis, index, consumer: 'sync-0', streams: [stream], batchSize: 10,
    onApplied: (_e, r) => {
      totals.applied += r.applied;
      totals.stale += r.stale;
    },
  });
  await consumer.drain();
  expect(totals).toEqual({ applied: 13, stale: 1 }); // 7 + 13 = 20 writes for 20 events; the redelivery was a no-op
  expect(await redis.xpending(stream, SEARCH_SYNC_GROUP)).toEqual([0, null, null, null]);
  const rows = await getProducts(db.pool, ids);
  const indexed = await indexedVersions(ids);
  expect(indexed.size).toBe(20);
  for (const p of rows) expect(indexed.get(p.id)).toBe(p.version);
  await redis.del(stream);
});

test('follow mode (a long-running consumer) applies new events as they come and exits 0 on SIGTERM', async () => {
  await index.ensure();
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { ...engineEnv(), SERVICE: 'search-sync', SEARCH_SYNC_MODE: 'follow', MYSQL_DATABASE: db.settings.database, SEARCH_INDEX_ALIAS: alias, POD_NAME: uniqueName('follow'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const id = await seedProduct(db.pool, 4, { name: 'Followed canoe' });
    await publishEvent(redis, PRODUCT_STREAM, 'product.changed', { productId: id });
    await eventually(async () => (await indexedVersions([id])).get(id) === 2, 20_000);
    await db.pool.execute('UPDATE stock SET quantity = 0, version = version + 1 WHERE product_id = ?', [id]);
    await publishEvent(redis, ORDER_STREAM, 'order.created', { orderId: 1, items: [{ productId: id, quantity: 4 }] });
    await eventually(async () => (await indexedVersions([id])).get(id) === 3, 20_000);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});
