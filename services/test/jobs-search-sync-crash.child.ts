/**
 * A search-sync consumer that dies by SIGKILL right after its CRASH_AFTER-th index write, before
 * acknowledging that entry: the crash mid-batch of jobs-search-sync.test.ts.
 */
import { writeSync } from 'node:fs';
import { createMysqlPool, mysqlSettingsFromEnv } from '../src/data/mysql';
import { createOpenSearchClient } from '../src/data/opensearch';
import { ProductSearchIndex } from '../src/catalog/product-search';
import { searchSyncConsumers } from '../src/jobs/search-sync';
import { testRedis } from './data-engines';

const crashAfter = Number(process.env.CRASH_AFTER);
let applied = 0;
const pool = createMysqlPool(mysqlSettingsFromEnv());
const [consumer] = searchSyncConsumers({
  pool,
  redis: testRedis(),
  index: new ProductSearchIndex(createOpenSearchClient(), process.env.SEARCH_INDEX_ALIAS),
  consumer: process.env.CONSUMER!,
  streams: [process.env.STREAM!],
  batchSize: 10,
  onApplied: (event, result) => {
    applied += result.applied;
    writeSync(1, `${JSON.stringify({ id: event.id, ...result })}\n`);
    if (applied === crashAfter) process.kill(process.pid, 'SIGKILL');
  },
});
void consumer.drain().then(() => {
  writeSync(1, 'drained without crashing\n');
  process.exit(3);
});
