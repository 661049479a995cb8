/**
 * order-timeout: cancels pending orders older than the payment window and restores their stock.
 *
 * Runs as a one-shot process (a Kubernetes indexed Job/CronJob). With JOB_COMPLETIONS = n pods,
 * pod JOB_COMPLETION_INDEX = i takes the orders whose id mod n = i, so shards never overlap; each
 * cancellation is a conditional UPDATE in its own transaction, so re-running is harmless.
 */
import type { RedisClient } from '../data/redis-lock';
import { loadConfig } from '../kit/config';
import { orderTimeoutEnv, orderTimeoutRules, orderTimeoutSpec, shardRule } from './env';
import { runJob } from './runtime';
import type { Pool } from '../data/mysql';
import { publishOutbox, relayOutbox, pruneOutbox } from '../data/outbox';
import { cancelPendingOrder, expiredPendingOrderIds, pruneCheckoutRequests } from '../order/orders-store';

export interface Shard {
  index: number;
  count: number;
}

/** This pod's shard: JOB_COMPLETION_INDEX of JOB_COMPLETIONS. Throws a ConfigError naming the variable. */
export function shardFromEnv(source: NodeJS.ProcessEnv = process.env): Shard {
  const c = loadConfig(orderTimeoutSpec, source, [shardRule]);
  return { index: c.JOB_COMPLETION_INDEX, count: c.JOB_COMPLETIONS };
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
    await pruneCheckoutRequests(opts.pool);
  }
  return result;
}

/** Entry of `SERVICE=order-timeout`: one pass over this pod's shard, then exit. */
export async function start(): Promise<void> {
  // Every variable of the job at once: one error naming each bad one, before connecting anywhere.
  const c = loadConfig(orderTimeoutEnv, process.env, orderTimeoutRules);
  const shard = { index: c.JOB_COMPLETION_INDEX, count: c.JOB_COMPLETIONS };
  await runJob('order-timeout', ({ pool, redis }) => runOrderTimeout({ pool, redis, shard, olderThanMs: c.ORDER_TIMEOUT_MINUTES * 60_000 }));
}
