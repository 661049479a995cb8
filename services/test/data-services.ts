/**
 * Starting the business services for tests: in-process (fast, `app.inject` or real HTTP) or as
 * child processes running src/main.ts (for deaths by SIGKILL). Each test file passes its own
 * MySQL database so files do not see each other's rows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Service } from '../src/kit';
import { engineEnv } from './data-engines';

// One test signing key per machine (generated on first use), so runs leave no directories behind.
const JWT_DIR = join(tmpdir(), 'platform-jwt-test');

/** Environment for a service under test: the engines, quiet logs, cheap scrypt, a shared test key. */
export function serviceEnv(database: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...engineEnv(),
    MYSQL_DATABASE: database,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    PASSWORD_SCRYPT_LOG2N: '10',
    JWT_PRIVATE_KEY_FILE: join(JWT_DIR, 'es256.pem'),
    SHUTDOWN_GRACE_MS: '0',
    SHUTDOWN_DRAIN_MS: '1000',
    ...extra,
  };
}

/** Creates a service with `vars` as its environment (process.env is restored afterwards). */
export async function inProcess(create: () => Promise<Service>, vars: NodeJS.ProcessEnv, listen = true): Promise<Service> {
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  try {
    const svc = await create();
    if (listen) {
      await svc.start();
      await eventually(async () => (await fetch(`${svc.url}/readyz`)).ok, 20_000);
    }
    return svc;
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

export interface ChildService {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly output: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const SERVICES_DIR = resolve(__dirname, '..');

/** Runs `SERVICE=<name> node src/main.ts` and resolves once it logs "service started". */
export function spawnService(name: string, vars: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<ChildService> {
  const proc = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: SERVICES_DIR,
    env: { ...vars, SERVICE: name, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${timeoutMs} ms:\n${output.join('').slice(-2000)}`));
    }, timeoutMs);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('service started')) continue;
        try {
          const url = (JSON.parse(line) as { url: string }).url;
          clearTimeout(timer);
          const child: ChildService = {
            proc,
            url,
            output,
            kill: (signal = 'SIGTERM') => {
              if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
              return exited;
            },
          };
          // Started is not ready: migrations may still be running.
          eventually(async () => (await fetch(`${url}/readyz`)).ok, timeoutMs).then(() => resolveStart(child), reject);
        } catch {
          /* not our line */
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before starting:\n${output.join('').slice(-2000)}`));
    });
  });
}

/** Polls until `check` returns truthy (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A JSON call to a service (or the gateway) over real HTTP on loopback. */
export async function call(base: string, method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
