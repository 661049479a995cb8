import { acquireLock, LockTimeoutError, withLocks } from '../src/data/redis-lock';
import { testRedis, uniqueName } from './data-engines';

const redis = testRedis();
afterAll(() => redis.quit());

test('a second taker waits, then times out while the first holds the lock', async () => {
  const key = uniqueName('lock');
  const first = await acquireLock(redis, key, { ttlMs: 2000 });
  await expect(acquireLock(redis, key, { waitMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
  expect(await first.release()).toBe(true);
  const second = await acquireLock(redis, key, { waitMs: 100 });
  expect(await second.release()).toBe(true);
});

test('release never deletes a lock that expired and was taken by someone else', async () => {
  const key = uniqueName('lock');
  const stale = await acquireLock(redis, key, { ttlMs: 50 });
  await new Promise((r) => setTimeout(r, 80));
  const fresh = await acquireLock(redis, key, { ttlMs: 5000, waitMs: 100 });
  expect(await stale.release()).toBe(false);
  expect(await redis.get(key)).toBe(fresh.token);
  expect(await stale.extend(5000)).toBe(false);
  expect(await fresh.release()).toBe(true);
});

test('withLocks serializes critical sections and releases on error', async () => {
  const keys = [uniqueName('a'), uniqueName('b')];
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      withLocks(redis, i % 2 ? keys : [...keys].reverse(), async () => {
        maxInside = Math.max(maxInside, ++inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
      }),
    ),
  );
  expect(maxInside).toBe(1);
  await expect(withLocks(redis, keys, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  expect(await redis.exists(keys[0])).toBe(0);
});
