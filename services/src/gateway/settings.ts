import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * The gateway's dynamic settings: etcd keys under `/registry/config/gateway/`, each JSON, each
 * optional (defaults below), each re-applied on change without restart. A value that does not parse
 * or validate is rejected with a message and the previous settings stay in force.
 */
export const SETTING_KEYS = ['routes', 'public-paths', 'rate-limits', 'ip-rules', 'rate-limit-fail-mode', 'auto-routes'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** One route: requests under `prefix` go to `service`, the prefix replaced by `rewrite`. */
export interface RouteRule {
  readonly prefix: string;
  readonly service: string;
  /** @default '/' (the prefix is stripped) */
  readonly rewrite: string;
}

export interface LimitRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RouteLimitRule extends LimitRule {
  /** Path pattern (see {@link compilePattern}), optionally preceded by a method: `POST /api/user/login`. */
  readonly match: string;
  /** Counted per client IP or per user (anonymous requests count per IP). @default 'ip' */
  readonly by: 'ip' | 'user';
}

export interface RateLimits {
  /** Per client IP, every API request. @default 600 per 60 s */
  readonly ip?: LimitRule;
  /** Per authenticated user. @default 1200 per 60 s */
  readonly user?: LimitRule;
  /** Extra limits on matching routes. @default none */
  readonly routes: readonly RouteLimitRule[];
}

export interface IpRules {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export interface GatewaySettings {
  readonly routes: readonly RouteRule[];
  /** Also route `/api/<service>/...` to any registered `<service>` (not the gateway). @default true */
  readonly autoRoutes: boolean;
  readonly publicPaths: readonly string[];
  readonly rateLimits: RateLimits;
  readonly ipRules: IpRules;
  readonly failMode: 'open' | 'closed';
}

export const DEFAULT_SETTINGS: GatewaySettings = {
  routes: [],
  autoRoutes: true,
  publicPaths: ['/api/*/public/**'],
  rateLimits: { ip: { limit: 600, windowSeconds: 60 }, user: { limit: 1200, windowSeconds: 60 }, routes: [] },
  ipRules: { allow: [], deny: [] },
  failMode: 'open',
};

/** Settings compiled for the request path. */
export interface CompiledSettings {
  readonly source: GatewaySettings;
  /** Longest prefix first. */
  readonly routes: readonly RouteRule[];
  readonly isPublic: (method: string, path: string) => boolean;
  readonly routeLimits: ReadonlyArray<RouteLimitRule & { readonly test: (method: string, path: string) => boolean; readonly id: string }>;
  /** 'allow', or the reason of a rejection. */
  readonly checkIp: (ip: string) => 'allow' | 'denied' | 'not_allowed';
}

/**
 * Applies raw etcd values (key → JSON string) over `previous`. A key whose value does not parse or
 * validate keeps its previous value and is reported in `errors` (one message naming the key),
 * so one bad key never blocks the others.
 */
export function parseSettings(
  raw: Partial<Record<SettingKey, string | undefined>>,
  previous: GatewaySettings = DEFAULT_SETTINGS,
  defaults: GatewaySettings = DEFAULT_SETTINGS,
): { settings: GatewaySettings; errors: string[] } {
  const errors: string[] = [];
  const read = <T>(key: SettingKey, check: (v: unknown) => T, fallback: T, last: T): T => {
    const text = raw[key];
    if (text === undefined || text.trim() === '') return fallback;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Plain strings are accepted for the scalar keys.
      value = text.trim();
    }
    try {
      return check(value);
    } catch (err) {
      errors.push(`gateway setting "${key}": ${(err as Error).message}`);
      return last;
    }
  };
  const d = defaults;
  const p = previous;
  const settings: GatewaySettings = {
    routes: read('routes', checkRoutes, d.routes, p.routes),
    autoRoutes: read('auto-routes', (v) => must(typeof v === 'boolean', 'must be true or false', v), d.autoRoutes, p.autoRoutes),
    publicPaths: read('public-paths', (v) => stringList(v, (s) => compilePattern(s)), d.publicPaths, p.publicPaths),
    rateLimits: read('rate-limits', checkRateLimits, d.rateLimits, p.rateLimits),
    ipRules: read('ip-rules', checkIpRules, d.ipRules, p.ipRules),
    failMode: read(
      'rate-limit-fail-mode',
      (v) => must(v === 'open' || v === 'closed', 'must be "open" or "closed"', v as 'open' | 'closed'),
      d.failMode,
      p.failMode,
    ),
  };
  return { settings, errors };
}

export function compileSettings(s: GatewaySettings): CompiledSettings {
  const publicTests = s.publicPaths.map(compilePattern);
  const allow = blockList(s.ipRules.allow);
  const deny = blockList(s.ipRules.deny);
  return {
    source: s,
    routes: [...s.routes].sort((a, b) => b.prefix.length - a.prefix.length),
    isPublic: (method, path) => publicTests.some((t) => t(method, path)),
    routeLimits: s.rateLimits.routes.map((r, i) => ({ ...r, test: compilePattern(r.match), id: `r${i}` })),
    checkIp: (ip) => {
      const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
      if (!family) return s.ipRules.allow.length ? 'not_allowed' : 'allow';
      const v4 = family === 'ipv6' && ip.startsWith('::ffff:') ? ip.slice(7) : undefined;
      const has = (list: BlockList | undefined): boolean =>
        !!list && (list.check(ip, family) || (v4 !== undefined && isIPv4(v4) && list.check(v4, 'ipv4')));
      if (has(deny)) return 'denied';
      if (allow && !has(allow)) return 'not_allowed';
      return 'allow';
    },
  };
}

/** The settings in force, and the way to re-read them after a change. */
export interface LiveSettings {
  /** Compiled once per change: read it by reference on the request path. */
  current(): CompiledSettings;
  /** Re-reads every key; a key that does not parse keeps its previous value. */
  reload(): void;
}

/**
 * Settings read with `read(key)` (the etcd values) over `defaults`, loaded now and again on every
 * `reload()`. `onReload` hears each outcome (metrics and logs).
 */
export function liveSettings(options: {
  readonly defaults: GatewaySettings;
  readonly read: (key: SettingKey) => string | undefined;
  readonly onReload?: (result: { readonly settings: GatewaySettings; readonly errors: readonly string[] }) => void;
}): LiveSettings {
  let compiled = compileSettings(options.defaults);
  const reload = (): void => {
    const raw: Partial<Record<SettingKey, string>> = {};
    for (const key of SETTING_KEYS) raw[key] = options.read(key);
    const result = parseSettings(raw, compiled.source, options.defaults);
    compiled = compileSettings(result.settings);
    options.onReload?.(result);
  };
  reload();
  return { current: () => compiled, reload };
}

/**
 * A path pattern: `*` is one path segment, `**` any rest (including nothing), everything else
 * literal; an optional method first (`GET /api/catalog/**`). Throws on an invalid pattern.
 */
export function compilePattern(pattern: string): (method: string, path: string) => boolean {
  const m = /^(?:([A-Z]+)\s+)?(\/\S*)$/.exec(pattern.trim());
  if (!m) throw new Error(`"${pattern}" is not a path pattern like "/api/*/public/**" or "POST /api/user/login"`);
  const [, method, path] = m;
  const source = path
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('')
    .replace(/\/\.\*$/, '(?:/.*)?');
  const re = new RegExp(`^${source}$`);
  return (reqMethod, reqPath) => (!method || method === reqMethod) && re.test(reqPath);
}

function checkRoutes(v: unknown): RouteRule[] {
  must(Array.isArray(v), 'must be a JSON array of { prefix, service, rewrite? }', v);
  return (v as unknown[]).map((r, i) => {
    const o = r as Record<string, unknown>;
    must(typeof o?.prefix === 'string' && o.prefix.startsWith('/'), `[${i}].prefix must be a path starting with "/"`, o?.prefix);
    must(typeof o.service === 'string' && /^[a-z0-9-]+$/.test(o.service), `[${i}].service must be a service name`, o.service);
    must(o.rewrite === undefined || (typeof o.rewrite === 'string' && o.rewrite.startsWith('/')), `[${i}].rewrite must start with "/"`, o.rewrite);
    return { prefix: (o.prefix as string).replace(/\/+$/, '') || '/', service: o.service as string, rewrite: (o.rewrite as string | undefined) ?? '/' };
  });
}

function checkLimit(v: unknown, where: string): LimitRule {
  const o = v as Record<string, unknown>;
  must(Number.isInteger(o?.limit) && (o.limit as number) > 0, `${where}.limit must be a positive integer`, o?.limit);
  must(Number.isInteger(o.windowSeconds) && (o.windowSeconds as number) > 0, `${where}.windowSeconds must be a positive integer`, o.windowSeconds);
  return { limit: o.limit as number, windowSeconds: o.windowSeconds as number };
}

function checkRateLimits(v: unknown): RateLimits {
  must(typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a JSON object { ip?, user?, routes? }', v);
  const o = v as Record<string, unknown>;
  const routes = o.routes === undefined ? [] : o.routes;
  must(Array.isArray(routes), 'routes must be an array', routes);
  return {
    ip: o.ip === undefined || o.ip === null ? undefined : checkLimit(o.ip, 'ip'),
    user: o.user === undefined || o.user === null ? undefined : checkLimit(o.user, 'user'),
    routes: (routes as unknown[]).map((r, i) => {
      const ro = r as Record<string, unknown>;
      must(typeof ro?.match === 'string', `routes[${i}].match must be a path pattern`, ro?.match);
      compilePattern(ro.match as string);
      must(ro.by === undefined || ro.by === 'ip' || ro.by === 'user', `routes[${i}].by must be "ip" or "user"`, ro.by);
      return { ...checkLimit(ro, `routes[${i}]`), match: ro.match as string, by: (ro.by as 'ip' | 'user' | undefined) ?? 'ip' };
    }),
  };
}

function checkIpRules(v: unknown): IpRules {
  const o = v as Record<string, unknown>;
  must(typeof o === 'object' && o !== null, 'must be a JSON object { allow?: [cidr], deny?: [cidr] }', v);
  const allow = o.allow === undefined ? [] : stringList(o.allow, parseCidr);
  const deny = o.deny === undefined ? [] : stringList(o.deny, parseCidr);
  return { allow, deny };
}

function stringList(v: unknown, check: (s: string) => unknown): string[] {
  must(Array.isArray(v) && v.every((s) => typeof s === 'string'), 'must be a JSON array of strings', v);
  for (const s of v as string[]) check(s);
  return v as string[];
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, bits] = cidr.trim().split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new Error(`"${cidr}" is not a CIDR like 10.0.0.0/8 or 2001:db8::/32`);
  }
  return { address, prefix, family };
}

function blockList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const c of cidrs) {
    const { address, prefix, family } = parseCidr(c);
    list.addSubnet(address, prefix, family);
  }
  return list;
}

function must<T>(ok: boolean, message: string, got: unknown, value?: T): T {
  if (!ok) throw new Error(`${message} (got ${JSON.stringify(got)})`);
  return (value ?? got) as T;
}
