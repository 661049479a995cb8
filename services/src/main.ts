import { ConfigError } from './kit';
import { entries } from './entries';

/** The single entry of the image: `SERVICE=gateway node dist/main.js`. */
async function main(): Promise<void> {
  const name = process.env.SERVICE;
  const load = name ? entries[name] : undefined;
  if (!load) {
    throw new ConfigError([`SERVICE must be one of ${Object.keys(entries).join(', ')} (got "${name ?? ''}")`]);
  }
  const mod = await load();
  await mod.start();
}

main().catch((err: Error) => {
  // Before the logger exists: one JSON line on stderr, then a non-zero exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: err.message, name: err.name })}\n`);
  process.exit(1);
});
