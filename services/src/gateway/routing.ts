/**
 * Which service a path goes to: the configured routes (longest prefix first), then the automatic
 * `/api/<service>/rest` → `/rest` for any service ever registered.
 */
import type { CompiledSettings } from './settings';

/** Where one request goes. */
export interface RouteTarget {
  readonly service: string;
  /** The path the service sees (prefix replaced by the route's rewrite). */
  readonly path: string;
  /** The metric and access-log label: the route's prefix. */
  readonly route: string;
  /** Sent as `x-forwarded-prefix`. */
  readonly prefix: string;
}

/** Services seen in the registry, which announces each one as it changes. */
export interface ServiceDirectory {
  services(): string[];
  on(event: 'change', listener: (service: string) => void): unknown;
}

/** Bound on the services remembered (the registry's root is shared; a flood of names must not grow memory). */
const MAX_KNOWN_SERVICES = 10_000;

export class Router {
  // Services ever registered: one whose instances are all gone answers 503, not 404.
  private readonly known: Set<string>;

  /** @param gatewayName never auto-routed to (nor any name starting with `gateway`) */
  constructor(
    private readonly gatewayName: string,
    directory?: ServiceDirectory,
  ) {
    this.known = new Set(directory?.services() ?? []);
    directory?.on('change', (service: string) => {
      if (this.known.size < MAX_KNOWN_SERVICES) this.known.add(service);
    });
  }

  resolve(s: CompiledSettings, pathname: string): RouteTarget | undefined {
    for (const r of s.routes) {
      if (pathname === r.prefix || pathname.startsWith(`${r.prefix}/`)) {
        const rest = pathname.slice(r.prefix.length);
        return { service: r.service, path: joinPath(r.rewrite, rest), route: r.prefix, prefix: r.prefix };
      }
    }
    if (!s.source.autoRoutes) return undefined;
    const m = /^\/api\/([a-z0-9-]+)(\/.*)?$/.exec(pathname);
    if (!m || m[1] === this.gatewayName || m[1].startsWith('gateway') || !this.known.has(m[1])) return undefined;
    return { service: m[1], path: m[2] ?? '/', route: `/api/${m[1]}`, prefix: `/api/${m[1]}` };
  }
}

function joinPath(base: string, rest: string): string {
  if (!rest || rest === '/') return base;
  return base.endsWith('/') ? base + rest.slice(1) : base + rest;
}
