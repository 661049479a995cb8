/**
 * Typed configuration from environment variables.
 *
 * Each service declares a spec (variable name -> parser); `loadConfig` reads them all, collects
 * every problem and throws one `ConfigError` that names each offending variable, so a bad
 * deployment fails at start with a message an operator can act on.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses one variable; throws a plain Error whose message completes "NAME ...". */
export interface VarSpec<T> {
  readonly parse: (raw: string | undefined) => T;
}

export type Parsed<S> = { [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never };

/** A set of variable parsers, by variable name. */
export type Specs = Readonly<Record<string, VarSpec<unknown>>>;

/**
 * A check of several variables together (e.g. "set exactly one of A and B"). It sees the values
 * that parsed; a variable that failed its own parser is absent. Returns the problems, each naming
 * its variables.
 */
export type EnvRule = (config: Readonly<Record<string, unknown>>) => string[];

/** Types a rule by the spec whose variables it reads. */
export function envRule<S extends Specs>(_spec: S, check: (config: Partial<Parsed<S>>) => string[]): EnvRule {
  return check as EnvRule;
}

function spec<T>(parseValue: (raw: string) => T, fallback: T | undefined): VarSpec<T> {
  return {
    parse(raw) {
      if (raw === undefined || raw.trim() === '') {
        if (fallback === undefined) throw new Error('is required but not set');
        return fallback;
      }
      return parseValue(raw.trim());
    },
  };
}

/** Variable parsers. Leave `default` out to make a variable required. */
export const env = {
  string(opts: { default?: string; pattern?: RegExp } = {}): VarSpec<string> {
    return spec((raw) => {
      if (opts.pattern && !opts.pattern.test(raw)) throw new Error(`must match ${opts.pattern} (got "${raw}")`);
      return raw;
    }, opts.default);
  },
  /** Optional string: `undefined` when unset; when set, it must match `pattern` if given. */
  optional(opts: { pattern?: RegExp } = {}): VarSpec<string | undefined> {
    return {
      parse(raw) {
        if (raw === undefined || raw.trim() === '') return undefined;
        const value = raw.trim();
        if (opts.pattern && !opts.pattern.test(value)) throw new Error(`must match ${opts.pattern} (got "${value}")`);
        return value;
      },
    };
  },
  int(opts: { default?: number; min?: number; max?: number } = {}): VarSpec<number> {
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    return spec((raw) => {
      const n = Number(raw);
      if (!/^-?\d+$/.test(raw) || n < min || n > max) {
        throw new Error(`must be an integer between ${min} and ${max} (got "${raw}")`);
      }
      return n;
    }, opts.default);
  },
  bool(opts: { default?: boolean } = {}): VarSpec<boolean> {
    return spec((raw) => {
      const v = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error(`must be true or false (got "${raw}")`);
    }, opts.default);
  },
  oneOf<T extends string>(values: readonly T[], opts: { default?: T } = {}): VarSpec<T> {
    return spec((raw) => {
      if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')} (got "${raw}")`);
      return raw as T;
    }, opts.default);
  },
  /** A decimal number (not only integers). `above` is an exclusive lower bound. */
  number(opts: { default?: number; min?: number; above?: number; max?: number } = {}): VarSpec<number> {
    const bounds = [
      opts.above !== undefined ? `above ${opts.above}` : opts.min !== undefined ? `at least ${opts.min}` : '',
      opts.max !== undefined ? `at most ${opts.max}` : '',
    ].filter(Boolean).join(' and ');
    return spec((raw) => {
      const n = Number(raw);
      const ok = /^-?(\d+\.?\d*|\.\d+)$/.test(raw) && Number.isFinite(n)
        && (opts.above === undefined || n > opts.above) && (opts.min === undefined || n >= opts.min) && (opts.max === undefined || n <= opts.max);
      if (!ok) throw new Error(`must be a number${bounds ? ` ${bounds}` : ''} (got "${raw}")`);
      return n;
    }, opts.default);
  },
  /** Comma-separated list; empty entries are dropped. */
  list(opts: { default?: string[] } = {}): VarSpec<string[]> {
    return spec((raw) => raw.split(',').map((s) => s.trim()).filter(Boolean), opts.default);
  },
  url(opts: { default?: string } = {}): VarSpec<string> {
    return spec((raw) => {
      try {
        return new URL(raw).toString();
      } catch {
        throw new Error(`must be a URL (got "${raw}")`);
      }
    }, opts.default);
  },
};

/**
 * Parses every variable of `specs` from `source`, then runs `rules` on what parsed. Never throws:
 * returns the values that parsed and every problem (empty when the configuration is valid).
 * `note(name)` may add a hint to a variable's problem.
 */
export function parseConfig<S extends Specs>(
  specs: S,
  source: Readonly<Record<string, string | undefined>> = process.env,
  rules: readonly EnvRule[] = [],
  note: (name: string) => string | undefined = () => undefined,
): { config: Partial<Parsed<S>>; problems: string[] } {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, s] of Object.entries(specs)) {
    try {
      out[name] = s.parse(source[name]);
    } catch (err) {
      const hint = note(name);
      problems.push(`${name} ${(err as Error).message}${hint ? ` (${hint})` : ''}`);
    }
  }
  for (const rule of rules) problems.push(...rule(out));
  return { config: out as Partial<Parsed<S>>, problems };
}

/**
 * Reads and validates every variable of `specs` from `source` (default `process.env`), and the
 * `rules` over several of them. Throws one {@link ConfigError} naming every problem.
 */
export function loadConfig<S extends Specs>(
  specs: S,
  source: NodeJS.ProcessEnv = process.env,
  rules: readonly EnvRule[] = [],
): Parsed<S> {
  const { config, problems } = parseConfig(specs, source, rules);
  if (problems.length > 0) throw new ConfigError(problems);
  return config as Parsed<S>;
}

/** Local engine addresses (scripts/engines.sh), the defaults when nothing is configured. */
export const LOCAL_ETCD_ENDPOINTS = ['http://127.0.0.1:23791', 'http://127.0.0.1:23792', 'http://127.0.0.1:23793'];
export const LOCAL_REDIS_NODES = ['127.0.0.1:27001', '127.0.0.1:27002', '127.0.0.1:27003'];

/**
 * The timeout chain, outermost first. Each layer answers before the layer around it gives up, so
 * a client always gets the innermost layer's own answer (a service's 503 with Retry-After, which
 * says the request may be retried) and never an ambiguous timeout of a layer further out:
 *
 *   CloudFront origin response timeout  > ALB idle timeout  (lib/, both above the gateway's)
 *   > the gateway's upstream deadline: CLIENT_TIMEOUT_MS of the gateway, one request's upstream
 *     call with its retries (default {@link DEFAULT_BUDGETS}.gatewayUpstreamMs)
 *   > a service's answer to one request: REQUEST_BUDGET_MS (default serviceRequestMs); past it the
 *     kit answers 503 itself
 *   > each wait inside a request, derived from REQUEST_BUDGET_MS by {@link budgets}: Redis, MySQL
 *     (pool acquire, connect, each query), a lock, a call to another service. A dependency that
 *     does not answer within its share is that route's 503.
 *
 * The defaults live here and nowhere else; test/kit/budgets.unit.test.ts checks that they nest.
 */
export const DEFAULT_BUDGETS = {
  /** The gateway's bound on one request's upstream call, retries included. */
  gatewayUpstreamMs: 5000,
  /** A service's bound on answering one request. */
  serviceRequestMs: 4000,
} as const;

/** The waits inside one request of a service, each a share of its REQUEST_BUDGET_MS. */
export interface Budgets {
  /** REQUEST_BUDGET_MS: the service answers within it (503 at worst). */
  readonly requestMs: number;
  /** One Redis command, a failover ridden through included (3/4). */
  readonly redisWaitMs: number;
  /** Waiting for a free MySQL connection of the pool (1/4). */
  readonly mysqlAcquireMs: number;
  /** Opening a MySQL connection, handshake included (1/4). */
  readonly mysqlConnectMs: number;
  /** One MySQL statement (1/2). */
  readonly mysqlQueryMs: number;
  /** Default wait for a lock (1/2). */
  readonly lockWaitMs: number;
  /** One call to another service, all its attempts (3/8). */
  readonly callMs: number;
  /** One readiness check (1/4). */
  readonly readinessCheckMs: number;
}

/** The waits of a service whose REQUEST_BUDGET_MS is `requestMs`. */
export function budgets(requestMs: number): Budgets {
  const share = (n: number, d: number) => Math.max(1, Math.floor((requestMs * n) / d));
  return {
    requestMs,
    redisWaitMs: share(3, 4),
    mysqlAcquireMs: share(1, 4),
    mysqlConnectMs: share(1, 4),
    mysqlQueryMs: share(1, 2),
    lockWaitMs: share(1, 2),
    callMs: share(3, 8),
    readinessCheckMs: share(1, 4),
  };
}

/**
 * Tracing (kit/tracing.ts): the standard OpenTelemetry variables the kit reads, others are ignored.
 * Off unless OTEL_TRACES_EXPORTER=otlp.
 */
export const tracingSpec = {
  /** `otlp` turns tracing on; `none` (the default) leaves it off and loads nothing. */
  OTEL_TRACES_EXPORTER: env.oneOf(['none', 'otlp'] as const, { default: 'none' }),
  /** `true` turns tracing off whatever OTEL_TRACES_EXPORTER says (the SDK's own kill switch). */
  OTEL_SDK_DISABLED: env.bool({ default: false }),
  /** Collector base URL; spans go to `<url>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url({ default: 'http://127.0.0.1:4318' }),
  OTEL_EXPORTER_OTLP_PROTOCOL: env.oneOf(['http/protobuf'] as const, { default: 'http/protobuf' }),
  /** Parent-based: a request that arrives with a sampling decision keeps it. */
  OTEL_TRACES_SAMPLER: env.oneOf(['parentbased_traceidratio', 'parentbased_always_on', 'parentbased_always_off'] as const, {
    default: 'parentbased_traceidratio',
  }),
  /** Ratio of the traces started here (no parent) that are sampled, 0..1. */
  OTEL_TRACES_SAMPLER_ARG: env.number({ default: 1, min: 0, max: 1 }),
  /** @default the service's name */
  OTEL_SERVICE_NAME: env.optional(),
  /** Extra resource attributes, `k=v,k=v` (e.g. `deployment.environment.name=prod`). */
  OTEL_RESOURCE_ATTRIBUTES: env.optional(),
};

/** Variables every service reads (see services/README.md). Extend with a service's own spec. */
export const kitSpec = {
  PORT: env.int({ default: 8080, min: 0, max: 65535 }),
  /**
   * A second port that serves only `/metrics`, for the Prometheus scraper: a NetworkPolicy can open
   * it without opening the API. 0: none (`/metrics` is on PORT as always).
   */
  METRICS_PORT: env.int({ default: 0, min: 0, max: 65535 }),
  HOST: env.string({ default: '0.0.0.0' }),
  /** Address other instances reach this one at. @default POD_IP, else 127.0.0.1 */
  ADVERTISE_HOST: env.optional(),
  /** The pod IP (Kubernetes downward API): the default of ADVERTISE_HOST. */
  POD_IP: env.optional(),
  INSTANCE_ID: env.optional(),
  SERVICE_VERSION: env.string({ default: '0.1.0' }),
  ZONE: env.string({ default: 'local' }),
  WEIGHT: env.int({ default: 1, min: 1, max: 1000 }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
  ETCD_ENDPOINTS: env.list({ default: LOCAL_ETCD_ENDPOINTS }),
  REGISTRY_ENABLED: env.bool({ default: true }),
  REGISTRY_TTL_SECONDS: env.int({ default: 10, min: 2, max: 300 }),
  /** Root of the registry keys; a test run can isolate itself with its own. */
  REGISTRY_ROOT: env.string({ default: '/registry', pattern: /^\/[A-Za-z0-9/_.-]*$/ }),
  REDIS_CLUSTER_NODES: env.list({ default: LOCAL_REDIS_NODES }),
  REDIS_TLS: env.bool({ default: false }),
  REDIS_USERNAME: env.optional(),
  REDIS_PASSWORD: env.optional(),
  BALANCER: env.oneOf(['round-robin', 'weighted', 'least-outstanding'] as const, { default: 'round-robin' }),
  /**
   * Per attempt of a call to another service; in the gateway also the bound on one request's whole
   * upstream call (retries included). A service's own calls are bounded by its REQUEST_BUDGET_MS too.
   */
  CLIENT_TIMEOUT_MS: env.int({ default: DEFAULT_BUDGETS.gatewayUpstreamMs, min: 1 }),
  CLIENT_RETRIES: env.int({ default: 2, min: 0, max: 10 }),
  BODY_LIMIT_BYTES: env.int({ default: 1_048_576, min: 1 }),
  /**
   * Record the per-request metrics: `http_requests_total` and `http_request_duration_seconds`, and
   * a service's own per-request series (the gateway's). Off only to measure what they cost.
   */
  REQUEST_METRICS: env.bool({ default: true }),
  /**
   * A service answers every request within this, a 503 with Retry-After at worst; every wait inside
   * a request is a share of it ({@link budgets}). Keep it below the gateway's CLIENT_TIMEOUT_MS.
   * Not applied by the gateway itself (its CLIENT_TIMEOUT_MS bounds its upstream calls).
   */
  REQUEST_BUDGET_MS: env.int({ default: DEFAULT_BUDGETS.serviceRequestMs, min: 100, max: 600_000 }),
  /**
   * How often an instance re-runs its readiness checks to leave the registry while a critical one
   * fails and rejoin when they pass again, ms (0: register once at start). Dependencies that only
   * some routes need (MySQL, Redis) are not critical: those routes answer their own 503 instead.
   */
  READINESS_POLL_MS: env.int({ default: 5000, min: 0 }),
  /** After the lease is revoked, time for watchers (gateways) to drop this instance, ms. */
  SHUTDOWN_GRACE_MS: env.int({ default: 1000, min: 0 }),
  /** Upper bound on waiting for in-flight requests, ms. */
  SHUTDOWN_DRAIN_MS: env.int({ default: 10_000, min: 0 }),
  ...tracingSpec,
};

/** The parsed {@link kitSpec}, ADVERTISE_HOST resolved. */
export type KitConfig = Omit<Parsed<typeof kitSpec>, 'ADVERTISE_HOST'> & { readonly ADVERTISE_HOST: string };

/**
 * How a service verifies the bearer token the gateway forwards (every service but the gateway and
 * the user service, which have their own): the keys, and the issuer and audience the user service
 * issues with. Default keys: the JWKS that instances of JWT_KEYS_SERVICE publish in the registry.
 */
export const tokenSpec = {
  /** Expected `iss`: the user service's JWT_ISSUER. */
  JWT_ISSUER: env.string({ default: 'platform-user' }),
  /** Accepted `aud` values: the user service's JWT_AUDIENCE. */
  JWT_AUDIENCE: env.list({ default: ['platform-api'] }),
  /** Keys from this JWKS URL instead of the registry. */
  JWT_JWKS_URL: env.optional(),
  /** Or this public key (PEM SPKI or JWK JSON). */
  JWT_PUBLIC_KEY: env.optional(),
  /** Registry name of the service whose instances publish the JWKS. */
  JWT_KEYS_SERVICE: env.string({ default: 'user', pattern: /^[a-z0-9_-]+$/ }),
};

/** At most one explicit key source for {@link tokenSpec}. */
export const tokenKeyRule = envRule(tokenSpec, (c) =>
  c.JWT_JWKS_URL && c.JWT_PUBLIC_KEY ? ['JWT_JWKS_URL and JWT_PUBLIC_KEY: set at most one (unset: the keys the user service publishes in the registry)'] : [],
);

/** Reads the kit variables. Throws {@link ConfigError} naming every bad one. */
export function loadKitConfig(source: NodeJS.ProcessEnv = process.env): KitConfig {
  const c = loadConfig(kitSpec, source);
  return { ...c, ADVERTISE_HOST: c.ADVERTISE_HOST ?? c.POD_IP ?? '127.0.0.1' };
}
