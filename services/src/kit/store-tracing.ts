/**
 * Client spans for the data stores (Redis, MySQL, OpenSearch, S3), installed by the code that
 * builds each client, only when tracing is on. A store call is traced only inside an active span
 * (a request, a stream event): background polling starts no trace. Span names and attributes
 * follow the OpenTelemetry database conventions; no key, value or bound parameter is recorded.
 */
import type { Attributes, TraceSpan, Tracing } from './tracing';

/**
 * Runs `call` in a child span of the active one (`name`, client kind), ended when its promise
 * settles and failed when it rejects; outside any span, `call` runs as it is.
 */
export function storeCall<T>(tr: Tracing, name: string, attributes: Attributes, call: () => Promise<T>): Promise<T> {
  const span = tr.childSpan(name, { kind: 'client', attributes });
  if (!span) return call();
  return tr.withSpan(span, call).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      endFailed(span, err);
      throw err;
    },
  );
}

function endFailed(span: TraceSpan, err: unknown): void {
  span.fail(err);
  span.end();
}

/** What traceRedis needs of an ioredis client (Cluster or Redis). */
interface RedisCommands {
  getBuiltinCommands(): string[];
}

/**
 * Wraps every command method of an ioredis client (`get`, `xadd`, `evalsha`, ...) on the instance:
 * auto-pipelined commands included, which never pass through `sendCommand`. Pipelines and
 * MULTI blocks are not traced command by command.
 */
export function traceRedis<C extends RedisCommands>(client: C, tr: Tracing): C {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of client.getBuiltinCommands()) {
    const original = methods[name];
    if (typeof original !== 'function' || name === 'multi' || name === 'pipeline') continue;
    const operation = name.toUpperCase();
    const attributes = { 'db.system.name': 'redis', 'db.operation.name': operation };
    Object.defineProperty(client, name, {
      configurable: true,
      writable: true,
      value(this: unknown, ...args: unknown[]) {
        const span = tr.childSpan(operation, { kind: 'client', attributes });
        const result = original.apply(this, args);
        if (span) {
          Promise.resolve(result).then(() => span.end(), (err: unknown) => endFailed(span, err));
        }
        return result;
      },
    });
  }
  return client;
}

/** The first SQL word, upper case (`SELECT`, `INSERT`, `START`), for a span name. */
export function sqlOperation(sql: unknown): string {
  const text = typeof sql === 'string' ? sql : typeof sql === 'object' && sql !== null && 'sql' in sql ? String((sql as { sql: unknown }).sql) : '';
  return /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';
}

/** MySQL statement attributes: the parameterized text (values travel apart and are never recorded). */
export function mysqlAttributes(sql: unknown, database: string): Attributes {
  const text = typeof sql === 'string' ? sql : typeof sql === 'object' && sql !== null && 'sql' in sql ? String((sql as { sql: unknown }).sql) : undefined;
  return { 'db.system.name': 'mysql', 'db.namespace': database, 'db.operation.name': sqlOperation(sql), 'db.query.text': text?.slice(0, 500) };
}

/** What traceOpenSearch needs of an @opensearch-project/opensearch Client. */
interface SearchTransport {
  transport: { request: (params: { method: string; path: string }, ...rest: unknown[]) => unknown };
}

/** Traces each OpenSearch request (`GET /products/_search`), path only, no body. */
export function traceOpenSearch<C extends SearchTransport>(client: C, tr: Tracing): C {
  const transport = client.transport;
  const request = transport.request.bind(transport);
  transport.request = (params, ...rest) => {
    // A callback-style call keeps its own path; the kit's code awaits promises.
    if (rest.some((r) => typeof r === 'function')) return request(params, ...rest);
    const index = params.path.split('/')[1] ?? '';
    return storeCall(tr, `${params.method} ${index.startsWith('_') ? params.path : `/${index}`}`, {
      'db.system.name': 'opensearch', 'http.request.method': params.method, 'url.path': params.path,
    }, () => request(params, ...rest) as Promise<unknown>);
  };
  return client;
}

/** What traceAwsClient needs of an AWS SDK v3 client. */
interface AwsClient {
  middlewareStack: {
    add(middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string; clientName?: string }) => (args: unknown) => Promise<unknown>, options: { step: 'deserialize'; name: string }): void;
  };
}

/**
 * Traces each request an AWS SDK v3 client sends (`S3.PutObject`; a retried call, each attempt), inside
 * an active span only. At the deserialize step, next to the wire: presigning stops before it and makes no span.
 */
export function traceAwsClient<C extends AwsClient>(client: C, tr: Tracing, service: string): C {
  client.middlewareStack.add(
    (next, context) => (args) =>
      storeCall(tr, `${service}.${(context.commandName ?? 'Command').replace(/Command$/, '')}`, {
        'rpc.system': 'aws-api', 'rpc.service': service, 'rpc.method': (context.commandName ?? '').replace(/Command$/, ''),
      }, () => next(args)),
    { step: 'deserialize', name: 'platformTracing' },
  );
  return client;
}
