import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { Writable } from 'node:stream';
import { createGateway } from '../../src/gateway';
import { createEcho, type EchoFaults } from '../../src/echo';
import { RegistryClient, loadKitConfig, type Service, type ServiceInstance } from '../../src/kit';

export const SERVICES_DIR = resolve(__dirname, '../..');
export const ENGINES_SCRIPT = resolve(SERVICES_DIR, '../scripts/engines.sh');

/** Engine addresses (globalSetup loaded them into process.env). */
export function engineEnv(): { ETCD_ENDPOINTS: string; REDIS_CLUSTER_NODES: string } {
  const { ETCD_ENDPOINTS, REDIS_CLUSTER_NODES } = process.env;
  if (!ETCD_ENDPOINTS || !REDIS_CLUSTER_NODES) throw new Error('ETCD_ENDPOINTS / REDIS_CLUSTER_NODES not set: run through jest (globalSetup starts the engines)');
  return { ETCD_ENDPOINTS, REDIS_CLUSTER_NODES };
}

/** `scripts/engines.sh kill|start etcd N|redis PORT`. */
export async function engines(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [ENGINES_SCRIPT, ...args], { timeout: 120_000 });
  return stdout;
}

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Logs into memory (quiet test output; assertions can read them). */
export class MemoryLog extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line) this.lines.push(JSON.parse(line));
    cb();
  }
}

/** This run's registry root (set by globalSetup), or the default. */
export const registryRoot = (): string => process.env.REGISTRY_ROOT ?? '/registry';

export function registryClient(): RegistryClient {
  return new RegistryClient({ endpoints: engineEnv().ETCD_ENDPOINTS.split(','), ttlSeconds: 5, root: registryRoot() });
}

/** Base env of an in-process service: engines, ephemeral port, short shutdown grace. */
export function serviceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...engineEnv(), REGISTRY_ROOT: registryRoot(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '300', REGISTRY_TTL_SECONDS: '4', ...extra };
}

/** An in-process echo instance registered as `name`. */
export async function startEcho(
  name: string,
  extra: Record<string, string> = {},
  checks: Record<string, () => boolean> = {},
): Promise<Service & { instance: ServiceInstance; faults: EchoFaults }> {
  const faults: EchoFaults = { status: 0 };
  const svc = await createEcho({ name, config: loadKitConfig(serviceEnv(extra)), logDestination: new MemoryLog(), checks }, faults);
  const instance = await svc.start();
  return Object.assign(svc, { instance, faults });
}

/** An echo instance as a child process (for SIGKILL / SIGTERM). Resolves once it listens. */
export async function spawnEcho(name: string, extra: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: SERVICES_DIR,
    env: { ...process.env, ...serviceEnv({ SERVICE: 'echo', ECHO_NAME: name, ...extra }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    let out = '';
    const timer = setTimeout(() => rejectUrl(new Error(`echo did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"([^"]+)","registered":true/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => rejectUrl(new Error(`echo exited ${code}: ${out}`)));
  });
  return { child, url, exited };
}

/** Signing keys and a token factory for the gateway's JWT checks. */
export interface TestIssuer {
  readonly publicJwk: string;
  readonly privateKey: KeyLike;
  token(claims?: JWTPayload, opts?: { expiresIn?: string | number; audience?: string; issuer?: string; key?: KeyLike }): Promise<string>;
}

export const ISSUER = 'https://auth.test.local';
export const AUDIENCE = 'platform-api';

export async function testIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const publicJwk = JSON.stringify({ ...(await exportJWK(publicKey)), alg: 'RS256', kid: 'test' });
  return {
    publicJwk,
    privateKey,
    token: (claims = {}, opts = {}) =>
      new SignJWT({ sub: 'user-1', roles: ['customer'], ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'test' })
        .setIssuedAt()
        .setIssuer(opts.issuer ?? ISSUER)
        .setAudience(opts.audience ?? AUDIENCE)
        .setExpirationTime(opts.expiresIn ?? '5m')
        .sign(opts.key ?? privateKey),
  };
}

export interface TestGateway {
  readonly svc: Service;
  readonly url: string;
  readonly name: string;
  readonly log: MemoryLog;
  /** Its RATE_LIMIT_KEY_PREFIX. */
  readonly rateLimitPrefix: string;
  /** Puts a dynamic setting and waits until the gateway applied it. */
  setting(key: string, value: unknown): Promise<void>;
  stop(): Promise<void>;
}

/** A gateway in process, with its own registry name (so its dynamic config is its own). */
export async function startGateway(issuer: TestIssuer, extra: Record<string, string> = {}): Promise<TestGateway> {
  const name = extra.GATEWAY_NAME ?? unique('gateway');
  const log = new MemoryLog();
  const rateLimitPrefix = extra.RATE_LIMIT_KEY_PREFIX ?? unique('rl');
  const svc = await createGateway(
    serviceEnv({
      GATEWAY_NAME: name,
      RATE_LIMIT_KEY_PREFIX: rateLimitPrefix,
      JWT_PUBLIC_KEY: issuer.publicJwk,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      BREAKER_RESET_MS: '1000',
      ...extra,
    }),
    { logDestination: log },
  );
  await svc.start();
  const registry = svc.ctx.registry!;
  return {
    svc,
    url: `http://127.0.0.1:${(svc.app.server.address() as { port: number }).port}`,
    name,
    log,
    rateLimitPrefix,
    async setting(key, value) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const applied = new Promise<void>((r) => {
        const on = (service: string, k: string) => {
          if (service === name && k === key) {
            registry.off('config', on);
            setImmediate(r);
          }
        };
        registry.on('config', on);
      });
      await registry.putConfig(name, key, text);
      await applied;
    },
    stop: () => svc.stop(),
  };
}

/** Polls `check` every 50 ms until it returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
