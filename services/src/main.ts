import { ConfigError, SecretError, kitSpec, loadSecrets } from './kit';
import { entries } from './entries';

/** Levels at which the start-up line below is not wanted. */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/** LOG_LEVEL for the entry's own line; a bad value is the service's to report. */
function logLevel(): string {
  try {
    return kitSpec.LOG_LEVEL.parse(process.env.LOG_LEVEL);
  } catch {
    return 'info';
  }
}

/**
 * The single entry of the image: `SERVICE=gateway node dist/main.js`. Before the service (or job)
 * loads any config, the secrets named by `*_SECRET_ARN` variables fill the variables it reads.
 */
async function main(): Promise<void> {
  const name = process.env.SERVICE;
  const load = name ? entries[name] : undefined;
  if (!load) {
    throw new ConfigError([`SERVICE must be one of ${Object.keys(entries).join(', ')} (got "${name ?? ''}")`]);
  }
  const secrets = await loadSecrets(process.env);
  if (secrets.length > 0 && !QUIET_LEVELS.has(logLevel())) {
    // Variable names only, never a value.
    process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), service: name, secrets, msg: 'secrets loaded' })}\n`);
  }
  const mod = await load();
  await mod.start();
}

main().catch((err: Error) => {
  // Before the logger exists: one JSON line on stderr, then a non-zero exit.
  const failures = err instanceof SecretError ? { secrets: err.failures } : {};
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: err.message, name: err.name, ...failures })}\n`);
  process.exit(1);
});
