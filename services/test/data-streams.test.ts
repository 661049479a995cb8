import { publishEvent, StreamConsumer, type StreamEvent } from '../src/data/streams';
import { testRedis, uniqueName } from './data-engines';

const redis = testRedis();
afterAll(() => redis.quit());

function consumer(stream: string, name: string, handle: (e: StreamEvent) => Promise<void>, minIdleMs = 60_000) {
  return new StreamConsumer({ redis, stream, group: 'g', consumer: name, handle, batchSize: 10, minIdleMs });
}

test('an entry whose write failed mid-batch stays pending; the restarted consumer applies it once', async () => {
  const stream = uniqueName('stream');
  for (let i = 0; i < 25; i++) await publishEvent(redis, stream, 'n', { i });
  const applied: number[] = [];
  let crashAfter = 7;
  const crashy = consumer(stream, 'c1', async (e) => {
    if (crashAfter-- === 0) throw new Error('process died');
    applied.push((e.data as { i: number }).i);
  });
  // The failing handler stands for a crash: the batch stops being acknowledged from there on.
  await crashy.runOnce(false);
  expect(applied).toHaveLength(9);
  const restarted = consumer(stream, 'c1', async (e) => {
    applied.push((e.data as { i: number }).i);
  });
  await restarted.drain();
  expect([...applied].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  expect(await redis.xpending(stream, 'g')).toEqual([0, null, null, null]);
});

test('entries left pending by a dead consumer are claimed by another after the idle time', async () => {
  const stream = uniqueName('stream');
  for (let i = 0; i < 5; i++) await publishEvent(redis, stream, 'n', { i });
  // Read but never acknowledged: the consumer died right after XREADGROUP.
  await redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 3, 'STREAMS', stream, '>').catch(async () => {
    await redis.xgroup('CREATE', stream, 'g', '0');
    return redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 3, 'STREAMS', stream, '>');
  });
  const seen: StreamEvent[] = [];
  await new Promise((r) => setTimeout(r, 60));
  await consumer(stream, 'alive', async (e) => void seen.push(e), 50).drain();
  expect(seen.map((e) => (e.data as { i: number }).i).sort()).toEqual([0, 1, 2, 3, 4]);
  expect(seen.filter((e) => e.deliveries === 2)).toHaveLength(3);
});

test('a poison entry goes to the dead-letter stream after maxDeliveries', async () => {
  const stream = uniqueName('stream');
  await publishEvent(redis, stream, 'bad', {});
  const c = new StreamConsumer({ redis, stream, group: 'g', consumer: 'c', batchSize: 10, maxDeliveries: 3, handle: async () => { throw new Error('nope'); } });
  for (let i = 0; i < 3; i++) await c.runOnce(false);
  expect(await redis.xlen(`${stream}:dead`)).toBe(1);
  expect(await redis.xpending(stream, 'g')).toEqual([0, null, null, null]);
});
