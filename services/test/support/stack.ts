/**
 * The platform as a user meets it: user, catalog and order (in process or each as its own child
 * process), a gateway in front, all found through etcd under a registry root of the file's own,
 * a MySQL database of the file's own. Traffic goes through the gateway like a client's.
 */
import { randomUUID } from 'node:crypto';
import { createCatalogService } from '../../src/catalog';
import { createOpenSearchClient } from '../../src/data/opensearch';
import { createGateway } from '../../src/gateway';
import type { Service } from '../../src/kit';
import { createOrderService } from '../../src/order';
import { createUserService } from '../../src/user';
import { engineEnv, freshDatabase, uniqueName, type TestDatabase } from '../data-engines';
import { call, eventually, inProcess, serviceEnv, spawnService, type ChildService, type HttpResult } from '../data-services';

export type StackServiceName = 'user' | 'catalog' | 'order';

const CREATE: Record<StackServiceName, () => Promise<Service>> = {
  user: () => createUserService(),
  catalog: () => createCatalogService(),
  order: () => createOrderService(),
};

/** A running instance: in process (a Service) or a child process. */
export interface Instance {
  readonly name: StackServiceName;
  readonly url: string;
  readonly service?: Service;
  readonly child?: ChildService;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly prefix: string;
  /** Instances per service. @default 1 each */
  readonly instances?: Partial<Record<StackServiceName, number>>;
  /** Run the services as child processes (`SERVICE=<name> node src/main.ts`). @default false */
  readonly children?: boolean;
  /** Extra environment of every service (and the gateway). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra environment per service. */
  readonly serviceEnv?: Partial<Record<StackServiceName, NodeJS.ProcessEnv>>;
  /** Extra environment of the gateway. */
  readonly gatewayEnv?: NodeJS.ProcessEnv;
}

export interface Account {
  readonly id: number;
  readonly email: string;
  readonly password: string;
  token: string;
}

export interface Stack {
  readonly db: TestDatabase;
  readonly env: NodeJS.ProcessEnv;
  readonly gateway: Service;
  readonly url: string;
  readonly instances: Instance[];
  /** A call through the gateway: `/api/...`. */
  api(method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<HttpResult>;
  /** Signs up and logs in a fresh account through the gateway. */
  account(): Promise<Account>;
  /** Logs in again (a fresh token, e.g. after a role change). */
  login(account: { email: string; password: string }): Promise<string>;
  /** Starts one more instance of `name`. */
  add(name: StackServiceName, extra?: NodeJS.ProcessEnv): Promise<Instance>;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const db = await freshDatabase(opts.prefix);
  const alias = uniqueName(`${opts.prefix}-products`).toLowerCase();
  const root = `${process.env.REGISTRY_ROOT ?? '/registry'}/${uniqueName(opts.prefix)}`;
  const env = serviceEnv(db.settings.database, { SEARCH_INDEX_ALIAS: alias, REGISTRY_ROOT: root, READINESS_POLL_MS: '200', ...opts.env });
  const instances: Instance[] = [];

  const add = async (name: StackServiceName, extra: NodeJS.ProcessEnv = {}): Promise<Instance> => {
    const vars = { ...env, ...opts.serviceEnv?.[name], ...extra };
    let instance: Instance;
    if (opts.children) {
      const child = await spawnService(name, { ...vars, LOG_LEVEL: 'info' });
      instance = { name, url: child.url, child, stop: async () => void (await child.kill('SIGTERM')) };
    } else {
      const service = await inProcess(CREATE[name], vars);
      instance = { name, url: service.url, service, stop: () => service.stop() };
    }
    instances.push(instance);
    return instance;
  };

  // The user service first: the gateway takes its keys from it.
  for (const name of ['user', 'catalog', 'order'] as const) {
    for (let i = 0; i < (opts.instances?.[name] ?? 1); i++) await add(name);
  }
  const user = instances.find((i) => i.name === 'user')!;
  const gateway = await createGateway({
    ...env,
    RATE_LIMIT_ENABLED: 'false',
    JWT_JWKS_URL: `${user.url}/.well-known/jwks.json`,
    LOG_LEVEL: 'silent',
    ...opts.gatewayEnv,
  });
  await gateway.start();
  const url = gateway.url;
  await eventually(async () => (['user', 'catalog', 'order'] as const).every((s) => gateway.ctx.registry!.instances(s).length >= (opts.instances?.[s] ?? 1)), 20_000);

  const api: Stack['api'] = (method, path, o = {}) =>
    call(url, method, path, { body: o.body, headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers } });

  const login = async (a: { email: string; password: string }): Promise<string> => {
    const res = await api('POST', '/api/user/public/login', { body: { email: a.email, password: a.password } });
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };

  return {
    db,
    env,
    gateway,
    url,
    instances,
    api,
    login,
    add,
    async account() {
      const email = `${uniqueName('acct')}@example.com`;
      const password = `pw-${randomUUID()}`;
      const res = await api('POST', '/api/user/public/signup', { body: { email, password, name: 'Test' } });
      if (res.status !== 201) throw new Error(`signup answered ${res.status}: ${JSON.stringify(res.body)}`);
      return { id: res.body.user.id as number, email, password, token: await login({ email, password }) };
    },
    async stop() {
      await gateway.stop().catch(() => undefined);
      for (const i of instances.reverse()) await i.stop().catch(() => undefined);
      const os = createOpenSearchClient(engineEnv());
      await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
      await os.close();
      await db.drop();
    },
  };
}

/** Counts of answers by status (`-1`: no answer at all). */
export function tally(statuses: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of statuses) out[String(s)] = (out[String(s)] ?? 0) + 1;
  return out;
}
