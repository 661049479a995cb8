/**
 * Redis Streams: publish events and consume them through a consumer group, at least once.
 *
 * An entry is acknowledged only after its handler's write succeeded. Entries a consumer read but
 * never acknowledged (it crashed mid-batch) stay pending: the same consumer re-reads its own
 * pending entries on start, and any consumer claims entries idle for `minIdleMs` with XAUTOCLAIM.
 * Handlers must therefore be idempotent; after `maxDeliveries` an entry goes to `<stream>:dead`.
 */
import { TRACEPARENT, tracing, type Tracing } from '../kit/tracing';
import type { RedisClient } from './redis-lock';

export interface StreamEvent<T = unknown> {
  readonly id: string;
  readonly type: string;
  readonly data: T;
  /** How many times the group has delivered this entry (1 on first delivery). */
  readonly deliveries: number;
  /** W3C trace context of the publisher (tracing on): the consumer continues that trace. */
  readonly traceparent?: string;
}

/** Appends an event; the stream is capped near `maxLen` entries so it never grows unbounded. */
export async function publishEvent(
  redis: RedisClient,
  stream: string,
  type: string,
  data: unknown,
  maxLen = 100_000,
): Promise<string> {
  const fields = ['type', type, 'data', JSON.stringify(data), 'at', new Date().toISOString()];
  const tr = tracing();
  if (!tr.enabled) return (await redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fields)) as string;
  // Inside a sampled request: a producer span whose context travels in the entry (a `traceparent`
  // field), so the consumer's span is its child. Inside an unsampled one, that request's context
  // (flags 00: the consumer follows the decision). Outside any, the entry is written as it always was.
  const span = tr.childSpan(`${stream} publish`, { kind: 'producer', attributes: messaging(stream, 'send', { 'messaging.operation.name': 'publish', 'event.type': type }) });
  const carrier: Record<string, string> = {};
  tr.inject(carrier, span);
  if (!span) {
    const trace = carrier[TRACEPARENT] ? [TRACEPARENT, carrier[TRACEPARENT]] : [];
    return (await redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fields, ...trace)) as string;
  }
  try {
    const id = (await tr.withSpan(span, () => redis.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...fields, TRACEPARENT, carrier[TRACEPARENT]))) as string;
    span.setAttribute('messaging.message.id', id);
    return id;
  } catch (err) {
    span.fail(err);
    throw err;
  } finally {
    span.end();
  }
}

/** OpenTelemetry messaging attributes of a Redis Stream. */
function messaging(stream: string, operation: 'send' | 'process', extra: Record<string, string | number>): Record<string, string | number> {
  return { 'messaging.system': 'redis', 'messaging.destination.name': stream, 'messaging.operation.type': operation, ...extra };
}

export async function ensureGroup(redis: RedisClient, stream: string, group: string, startId = '0'): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}

export interface ConsumerOptions {
  /** Client for the consumer's commands; a blocking read holds its connection, so give it its own. */
  redis: RedisClient;
  stream: string;
  group: string;
  /** Stable per process (e.g. pod name): on restart it re-reads what it left pending. */
  consumer: string;
  handle: (event: StreamEvent) => Promise<void>;
  batchSize?: number;
  blockMs?: number;
  /** Entries pending longer than this on any consumer are claimed. @default 30000 */
  minIdleMs?: number;
  /** @default 5 */
  maxDeliveries?: number;
  onError?: (err: unknown, event?: StreamEvent) => void;
}

type RawEntry = [string, string[] | null];

export interface BatchResult {
  processed: number;
  failed: number;
}

export class StreamConsumer {
  private running = false;
  private loop?: Promise<void>;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly minIdleMs: number;
  private readonly maxDeliveries: number;

  constructor(private readonly opts: ConsumerOptions) {
    this.batchSize = opts.batchSize ?? 50;
    this.blockMs = opts.blockMs ?? 2000;
    this.minIdleMs = opts.minIdleMs ?? 30_000;
    this.maxDeliveries = opts.maxDeliveries ?? 5;
  }

  /** One pass: own pending entries, then claimed idle ones, then new ones (blocking up to blockMs). */
  async runOnce(block = true): Promise<BatchResult> {
    const { redis, stream, group, consumer } = this.opts;
    await ensureGroup(redis, stream, group);
    const total: BatchResult = { processed: 0, failed: 0 };
    const add = (r: BatchResult) => {
      total.processed += r.processed;
      total.failed += r.failed;
    };

    const own = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', this.batchSize, 'STREAMS', stream, '0')) as
      | [string, RawEntry[]][]
      | null;
    add(await this.process(own?.[0]?.[1] ?? []));

    const claimed = (await redis.xautoclaim(stream, group, consumer, this.minIdleMs, '0', 'COUNT', this.batchSize)) as [
      string,
      RawEntry[],
      string[]?,
    ];
    add(await this.process(claimed[1] ?? []));

    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', this.batchSize];
    if (block) args.push('BLOCK', this.blockMs);
    args.push('STREAMS', stream, '>');
    const fresh = (await (redis.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(...args)) as
      | [string, RawEntry[]][]
      | null;
    add(await this.process(fresh?.[0]?.[1] ?? []));
    return total;
  }

  /** Drains until a pass finds nothing (no blocking): what a one-shot job run does. */
  async drain(): Promise<BatchResult> {
    const total: BatchResult = { processed: 0, failed: 0 };
    for (;;) {
      const r = await this.runOnce(false);
      total.processed += r.processed;
      total.failed += r.failed;
      if (r.processed === 0) return total;
      if (r.failed > 0 && r.processed === r.failed) return total;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.runOnce(true);
        } catch (err) {
          this.opts.onError?.(err);
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async process(entries: RawEntry[]): Promise<BatchResult> {
    const { redis, stream, group } = this.opts;
    const result: BatchResult = { processed: 0, failed: 0 };
    if (entries.length === 0) return result;
    const counts = await this.deliveryCounts(entries[0][0], entries[entries.length - 1][0]);
    for (const [id, fields] of entries) {
      result.processed++;
      if (!fields) {
        // Trimmed away while pending: nothing left to apply.
        await redis.xack(stream, group, id);
        continue;
      }
      const event = parseEntry(id, fields, counts.get(id) ?? 1);
      try {
        const tr = tracing();
        await (tr.enabled ? this.handleTraced(tr, event) : this.opts.handle(event));
        await redis.xack(stream, group, id);
      } catch (err) {
        result.failed++;
        this.opts.onError?.(err, event);
        if (event.deliveries >= this.maxDeliveries) {
          await redis.xadd(`${stream}:dead`, 'MAXLEN', '~', 10_000, '*', 'id', id, 'type', event.type, 'data', JSON.stringify(event.data), 'error', String(err));
          await redis.xack(stream, group, id);
        }
      }
    }
    return result;
  }

  /**
   * The handler in a consumer span, a child of the publisher's (its `traceparent`), so the event's
   * work (and its log lines) joins the request's trace; an entry without one starts a trace here.
   */
  private handleTraced(tr: Tracing, event: StreamEvent): Promise<void> {
    const { stream, group, consumer } = this.opts;
    return tr.inSpan(`${stream} process`, {
      kind: 'consumer',
      parent: event.traceparent ? { [TRACEPARENT]: event.traceparent } : {},
      attributes: messaging(stream, 'process', {
        'messaging.operation.name': 'process', 'messaging.consumer.group.name': group, 'messaging.client.id': consumer,
        'messaging.message.id': event.id, 'event.type': event.type, 'messaging.message.delivery_count': event.deliveries,
      }),
    }, () => this.opts.handle(event));
  }

  private async deliveryCounts(from: string, to: string): Promise<Map<string, number>> {
    const { redis, stream, group } = this.opts;
    const rows = (await redis.xpending(stream, group, from, to, this.batchSize * 2)) as [string, string, number, number][];
    return new Map(rows.map((r) => [r[0], Number(r[3])]));
  }
}

function parseEntry(id: string, fields: string[], deliveries: number): StreamEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i], fields[i + 1]);
  let data: unknown = null;
  try {
    data = JSON.parse(map.get('data') ?? 'null');
  } catch {
    data = map.get('data');
  }
  const traceparent = map.get(TRACEPARENT);
  return { id, type: map.get('type') ?? 'unknown', data, deliveries, ...(traceparent ? { traceparent } : {}) };
}
