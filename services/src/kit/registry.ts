import { EventEmitter } from 'node:events';
import { Etcd3, type IOptions, type Lease, type Watcher } from 'etcd3';
import type { Logger } from 'pino';

/** Root of the registry keys (ARCHITECTURE.md); a test run may use another to isolate itself. */
export const REGISTRY_ROOT = '/registry';
/** Key prefix of instance records: `/registry/services/<service>/<instance-id>`. */
export const SERVICES_PREFIX = `${REGISTRY_ROOT}/services/`;
/** Key prefix of dynamic config: `/registry/config/<service>/<key>`. */
export const CONFIG_PREFIX = `${REGISTRY_ROOT}/config/`;

/** What an instance publishes about itself (the value of its registry key). */
export interface ServiceInstance {
  readonly id: string;
  readonly service: string;
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly zone: string;
  /** Relative share of traffic for weighted balancing. @default 1 */
  readonly weight: number;
  readonly metadata: Readonly<Record<string, string>>;
  /** ISO time the instance started. */
  readonly startedAt: string;
}

/** Options of {@link RegistryClient}. */
export interface RegistryOptions {
  /** etcd client URLs, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** Lease TTL in seconds; keep-alive runs every TTL/3. @default 10 */
  readonly ttlSeconds?: number;
  /** Extra etcd3 options (auth, TLS credentials, fault handling). @default none */
  readonly etcdOptions?: Partial<IOptions>;
  /** @default silent */
  readonly logger?: Logger;
  /** Root of every key. @default '/registry' */
  readonly root?: string;
}

type Table = Map<string, Map<string, ServiceInstance>>;

/**
 * The etcd registry client: registers this instance under a lease, keeps a watched in-memory table
 * of every registered instance and watched dynamic config. Reads (`instances`, `config`) are
 * synchronous and never touch etcd, so they are safe on the request path.
 *
 * Events: `change` (service: string) when a service's instance set changes; `config`
 * (service: string, key: string, value: string | undefined) when a config key is put or deleted;
 * `registered` (instance) after every (re-)registration; `lost` (error) when the lease is lost
 * (re-registration follows by itself).
 */
export class RegistryClient extends EventEmitter {
  readonly etcd: Etcd3;
  private readonly ttl: number;
  private readonly log?: Logger;
  private lease?: Lease;
  private self?: ServiceInstance;
  private closed = false;
  private reRegistering = false;
  private readonly table: Table = new Map();
  private readonly snapshots = new Map<string, ServiceInstance[]>();
  private readonly configs = new Map<string, Map<string, string>>();
  private readonly watchers: Watcher[] = [];
  private discovering?: Promise<void>;
  private readonly configWatches = new Map<string, Promise<void>>();
  private readonly servicesPrefix: string;
  private readonly configPrefix: string;

  constructor(options: RegistryOptions) {
    super();
    const root = (options.root ?? REGISTRY_ROOT).replace(/\/+$/, '');
    this.servicesPrefix = `${root}/services/`;
    this.configPrefix = `${root}/config/`;
    this.ttl = options.ttlSeconds ?? 10;
    this.log = options.logger;
    this.etcd = new Etcd3({ hosts: [...options.endpoints], dialTimeout: 2000, ...options.etcdOptions });
  }

  /** The instance this client registered, if any. */
  get registered(): ServiceInstance | undefined {
    return this.self;
  }

  /**
   * Puts the instance key under a fresh lease with auto keep-alive. If the lease is lost (etcd
   * unreachable longer than the TTL, or revoked by someone else) it registers again, with backoff,
   * until {@link deregister} or {@link close}.
   */
  async register(instance: Omit<ServiceInstance, 'startedAt'> & { startedAt?: string }): Promise<void> {
    this.self = { ...instance, startedAt: instance.startedAt ?? new Date().toISOString() };
    await this.putSelf();
  }

  private async putSelf(): Promise<void> {
    const self = this.self;
    if (!self) return;
    const lease = this.etcd.lease(this.ttl, { autoKeepAlive: true });
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.log?.warn({ err: err.message, id: self.id }, 'registry lease lost, registering again');
      this.emit('lost', err);
      void this.reRegister();
    });
    try {
      await lease.put(this.instanceKey(self.service, self.id)).value(JSON.stringify(self));
    } catch (err) {
      lease.release();
      throw err;
    }
    this.lease = lease;
    this.emit('registered', self);
  }

  private async reRegister(): Promise<void> {
    if (this.reRegistering) return;
    this.reRegistering = true;
    let delay = 200;
    try {
      while (!this.closed && this.self) {
        try {
          await this.putSelf();
          this.log?.info({ id: this.self.id }, 'registered again');
          return;
        } catch (err) {
          this.log?.warn({ err: (err as Error).message }, 'registration failed, retrying');
          await sleep(delay);
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.reRegistering = false;
    }
  }

  /** Revokes the lease: the instance key disappears at once for every watcher. Idempotent. */
  async deregister(): Promise<void> {
    const lease = this.lease;
    this.self = undefined;
    this.lease = undefined;
    if (!lease) return;
    try {
      await lease.revoke();
    } catch (err) {
      // The key still expires with the lease TTL.
      this.log?.warn({ err: (err as Error).message }, 'lease revoke failed; the key expires with its TTL');
      lease.release();
    }
  }

  /**
   * Loads every registered instance and keeps the table current with a prefix watch. Resolves once
   * the table is loaded. Idempotent.
   */
  discover(): Promise<void> {
    this.discovering ??= this.watchPrefix(
      this.servicesPrefix,
      (kvs) => {
        this.table.clear();
        this.snapshots.clear();
        for (const [key, value] of kvs) this.applyInstance(key, value);
        for (const service of this.table.keys()) this.emit('change', service);
      },
      (key, value) => {
        const service = this.applyInstance(key, value);
        if (service) this.emit('change', service);
      },
    );
    return this.discovering;
  }

  private applyInstance(key: string, value: string | undefined): string | undefined {
    const [service, id] = key.slice(this.servicesPrefix.length).split('/');
    if (!service || !id) return undefined;
    this.snapshots.delete(service);
    let instances = this.table.get(service);
    if (value === undefined) {
      instances?.delete(id);
      return service;
    }
    const parsed = parseInstance(value, service, id);
    if (!parsed) {
      this.log?.warn({ key }, 'ignoring malformed instance record');
      return undefined;
    }
    if (!instances) this.table.set(service, (instances = new Map()));
    instances.set(id, parsed);
    return service;
  }

  /** Instances of `service` known now (empty when none or before {@link discover}). Do not mutate. */
  instances(service: string): ServiceInstance[] {
    // A snapshot array per service, rebuilt only after a change: the request path allocates nothing.
    let list = this.snapshots.get(service);
    if (!list) {
      const instances = this.table.get(service);
      list = instances ? [...instances.values()] : [];
      this.snapshots.set(service, list);
    }
    return list;
  }

  /** Names of services with at least one instance. */
  services(): string[] {
    return [...this.table].filter(([, m]) => m.size > 0).map(([s]) => s);
  }

  /**
   * Loads the dynamic config of `service` (`/registry/config/<service>/<key>`) and keeps it current;
   * `config` events fire on every change. Resolves once loaded. Idempotent per service.
   */
  watchConfig(service: string): Promise<void> {
    let watching = this.configWatches.get(service);
    if (!watching) {
      const prefix = `${this.configPrefix}${service}/`;
      const values = new Map<string, string>();
      this.configs.set(service, values);
      watching = this.watchPrefix(
        prefix,
        (kvs) => {
          const before = new Map(values);
          values.clear();
          for (const [key, value] of kvs) values.set(key.slice(prefix.length), value);
          for (const key of new Set([...before.keys(), ...values.keys()])) {
            if (before.get(key) !== values.get(key)) this.emit('config', service, key, values.get(key));
          }
        },
        (key, value) => {
          const name = key.slice(prefix.length);
          if (value === undefined) values.delete(name);
          else values.set(name, value);
          this.emit('config', service, name, value);
        },
      );
      this.configWatches.set(service, watching);
    }
    return watching;
  }

  /** A dynamic config value of `service` (after {@link watchConfig}), or undefined. */
  config(service: string, key: string): string | undefined {
    return this.configs.get(service)?.get(key);
  }

  /** Writes a dynamic config value (operators, tests). */
  async putConfig(service: string, key: string, value: string): Promise<void> {
    await this.etcd.put(`${this.configPrefix}${service}/${key}`).value(value);
  }

  /** Deletes a dynamic config value. */
  async deleteConfig(service: string, key: string): Promise<void> {
    await this.etcd.delete().key(`${this.configPrefix}${service}/${key}`);
  }

  /** The etcd key of an instance record under this client's root. */
  instanceKey(service: string, id: string): string {
    return `${this.servicesPrefix}${service}/${id}`;
  }

  /** True when etcd answers (a readiness check). */
  async ping(): Promise<boolean> {
    await this.etcd.maintenance.status();
    return true;
  }

  /**
   * Initial load with a range read, then a watch from the next revision so no change is missed;
   * after a watch reconnect the prefix is read again in full, in case events were compacted away.
   */
  private async watchPrefix(
    prefix: string,
    load: (kvs: Array<[string, string]>) => void,
    apply: (key: string, value: string | undefined) => void,
  ): Promise<void> {
    const read = async (): Promise<string> => {
      const res = await this.etcd.getAll().prefix(prefix).exec();
      load(res.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
      return res.header.revision;
    };
    const revision = await read();
    const watcher = await this.etcd
      .watch()
      .prefix(prefix)
      .startRevision(String(BigInt(revision) + 1n))
      .create();
    let disconnected = false;
    watcher.on('put', (kv) => apply(kv.key.toString(), kv.value.toString()));
    watcher.on('delete', (kv) => apply(kv.key.toString(), undefined));
    watcher.on('disconnected', () => {
      disconnected = true;
      this.log?.warn({ prefix }, 'registry watch disconnected, reconnecting');
    });
    watcher.on('connected', () => {
      if (!disconnected) return;
      disconnected = false;
      read().catch((err) => this.log?.warn({ err: (err as Error).message, prefix }, 'registry reload failed'));
    });
    watcher.on('error', (err) => this.log?.warn({ err: err.message, prefix }, 'registry watch error'));
    this.watchers.push(watcher);
  }

  /** Stops watches and keep-alive (does not revoke: call {@link deregister} first) and closes etcd. */
  async close(): Promise<void> {
    this.closed = true;
    this.lease?.release();
    this.lease = undefined;
    await Promise.allSettled(this.watchers.map((w) => w.cancel()));
    this.etcd.close();
  }
}

/** The etcd key of an instance record under the default root. */
export function instanceKey(service: string, id: string): string {
  return `${SERVICES_PREFIX}${service}/${id}`;
}

function parseInstance(value: string, service: string, id: string): ServiceInstance | undefined {
  try {
    const v = JSON.parse(value) as Partial<ServiceInstance>;
    if (typeof v.host !== 'string' || typeof v.port !== 'number') return undefined;
    return {
      id,
      service,
      host: v.host,
      port: v.port,
      version: v.version ?? '0.0.0',
      zone: v.zone ?? 'local',
      weight: typeof v.weight === 'number' && v.weight > 0 ? v.weight : 1,
      metadata: v.metadata ?? {},
      startedAt: v.startedAt ?? '',
    };
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
