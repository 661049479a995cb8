/**
 * order-timeout: cancels pending orders older than the payment window and restores their stock.
 *
 * Runs as a one-shot process (a Kubernetes indexed Job/CronJob). With JOB_COMPLETIONS = n pods,
 * pod JOB_COMPLETION_INDEX = i takes the orders whose id mod n = i, so shards never overlap; each
 * cancellation is a conditional UPDATE in its own transaction, so re-running is harmless.
 */
import type { RedisClient } from '../data/redis-lock';
import { runJob } from './runtime';
import type { Pool } from '../data/mysql';
import { publishOutbox, relayOutbox, pruneOutbox } from '../data/outbox';
import { cancelPendingOrder, expiredPendingOrderIds } from '../order/orders-store';

export interface Shard {
  index: number;
  count: number;
}

export function shardFromEnv(source: NodeJS.ProcessEnv = process.env): Shard {
  const count = Number(source.JOB_COMPLETIONS ?? '1');
  const index = Number(source.JOB_COMPLETION_INDEX ?? '0');
  if (!Number.isInteger(count) || count < 1) throw new Error(`JOB_COMPLETIONS must be an integer >= 1 (got "${source.JOB_COMPLETIONS}")`);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`JOB_COMPLETION_INDEX must be an integer in [0, ${count - 1}] (got "${source.JOB_COMPLETION_INDEX}")`);
  }
  return { index, count };
}

export interface OrderTimeoutResult {
  examined: number;
  cancelled: number;
  /** Outbox events this run published for other writers that could not (shard 0 only). */
  relayed: number;
}

export async function runOrderTimeout(opts: {
  pool: Pool;
  redis?: RedisClient;
  shard: Shard;
  /** @default 30 minutes */
  olderThanMs?: number;
}): Promise<OrderTimeoutResult> {
  const olderThanMs = opts.olderThanMs ?? 30 * 60_000;
  const result: OrderTimeoutResult = { examined: 0, cancelled: 0, relayed: 0 };
  let afterId = 0;
  for (;;) {
    const ids = await expiredPendingOrderIds(opts.pool, olderThanMs, opts.shard, 200, afterId);
    if (ids.length === 0) break;
    for (const id of ids) {
      result.examined++;
      const cancelled = await cancelPendingOrder(opts.pool, id);
      if (!cancelled) continue;
      result.cancelled++;
      // Left in the outbox if Redis is down: the next run's relay publishes it.
      if (opts.redis) await publishOutbox(opts.pool, opts.redis, [cancelled.eventId]).catch(() => undefined);
    }
    afterId = ids[ids.length - 1];
  }
  // One shard relays what any writer committed but could not publish (Redis was down, or it died).
  if (opts.redis && opts.shard.index === 0) {
    result.relayed = await relayOutbox(opts.pool, opts.redis);
    await pruneOutbox(opts.pool);
  }
  return result;
}

/** Entry of `SERVICE=order-timeout`: one pass over this pod's shard, then exit. */
export async function start(): Promise<void> {
  const shard = shardFromEnv();
  const minutes = Number(process.env.ORDER_TIMEOUT_MINUTES ?? '30');
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`ORDER_TIMEOUT_MINUTES must be a positive number (got "${process.env.ORDER_TIMEOUT_MINUTES}")`);
  await runJob('order-timeout', ({ pool, redis }) => runOrderTimeout({ pool, redis, shard, olderThanMs: minutes * 60_000 }));
}
