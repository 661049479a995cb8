import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerSettings {
  /** Service name, on every line as `service`. */
  readonly service: string;
  /** Instance id, on every line as `instance`. @default none */
  readonly instance?: string;
  /** pino level. @default 'info' */
  readonly level?: string;
  /** Where lines go. @default stdout */
  readonly destination?: pino.DestinationStream;
  /**
   * `trace_id` and `span_id` of the active span on every line (kit/tracing.ts `logFields`). Only
   * when tracing is on: off, no mixin runs. @default none
   */
  readonly traceFields?: () => Record<string, string | undefined>;
}

/**
 * JSON logs, one object a line, ISO time and a textual level, so CloudWatch / Loki queries read
 * `level`, `service`, `reqId` without parsing. Request-scoped loggers (fastify `req.log`) add `reqId`;
 * with tracing on, every line written inside a span adds `trace_id` and `span_id`.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service, ...(settings.instance ? { instance: settings.instance } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(settings.traceFields ? { mixin: settings.traceFields } : {}),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
