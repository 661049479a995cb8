import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where scripts/engines.sh writes the engines' addresses. */
export const ENGINES_ENV_FILE = process.env.ENGINES_ENV_FILE ?? '/tmp/platform-engines/engines.env';

/** Longest `engines.sh up` may take: a cold machine's one-off installs and MinIO build included. */
const ENGINES_UP_TIMEOUT_MS = 20 * 60_000;

/**
 * Starts the local engines the integration tests need (idempotent: already running ones are kept)
 * and loads their addresses into process.env, which the test workers inherit, with a REGISTRY_ROOT
 * of this run's own (global-teardown.ts deletes its keys).
 * Set ENGINES_SKIP_UP=1 to use engines you started yourself (with their env already exported).
 */
export default async function globalSetup(_global: unknown, project: { globals?: Record<string, unknown> }): Promise<void> {
  // Every service of this run registers under its own root: runs sharing the local etcd (several
  // developers, or a local run beside the tests) never route to each other's instances.
  process.env.REGISTRY_ROOT ??= `/test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const engines = String(project.globals?.ENGINES ?? 'etcd redis').split(/[\s,]+/).filter(Boolean);
  if (process.env.ENGINES_SKIP_UP !== '1') {
    const script = resolve(__dirname, '../../../scripts/engines.sh');
    // A fresh machine installs the Debian packages and builds MinIO once (~4 min on 2 cores, longer
    // on a busy one); warm, `up` takes seconds. The bound only catches a hung install.
    execFileSync('bash', [script, 'up', ...engines], { stdio: ['ignore', 'inherit', 'inherit'], timeout: ENGINES_UP_TIMEOUT_MS });
    loadEnvFile(ENGINES_ENV_FILE);
  }
}

function loadEnvFile(file: string): void {
  if (!existsSync(file)) throw new Error(`engines env file ${file} not found after scripts/engines.sh up`);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    process.env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
}
