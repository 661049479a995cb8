import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * promtool (Prometheus 3.x) and amtool (Alertmanager) through scripts/promtool.sh: the first call of each in a process installs it
 * (a one-off `go install`, several minutes on a cold machine, then cached; give that test a long timeout).
 */

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'promtool.sh');
const binaries: Record<string, string> = {};

function installed(command: 'install' | 'install-amtool'): string {
  if (binaries[command]) return binaries[command];
  const r = spawnSync('bash', [SCRIPT, command], { encoding: 'utf8', timeout: 60 * 60 * 1000 });
  if (r.status !== 0) throw new Error(`scripts/promtool.sh ${command} failed (exit ${r.status}):\n${r.stderr}`);
  binaries[command] = r.stdout.trim().split('\n').pop()!;
  return binaries[command];
}

/** Path of the cached promtool binary, built on first use. */
export const promtoolPath = (): string => installed('install');
/** Path of the cached amtool binary (Alertmanager), built on first use. */
export const amtoolPath = (): string => installed('install-amtool');

export interface PromtoolResult {
  readonly status: number;
  readonly output: string;
}

/** Runs promtool ARGS in a fresh temporary directory holding FILES. */
export const promtool = (args: string[], files: Record<string, string> = {}): PromtoolResult => runIn(promtoolPath(), args, files);
/** Runs amtool ARGS in a fresh temporary directory holding FILES. */
export const amtool = (args: string[], files: Record<string, string> = {}): PromtoolResult => runIn(amtoolPath(), args, files);

function runIn(binary: string, args: string[], files: Record<string, string>): PromtoolResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const r = spawnSync(binary, args, { cwd: dir, encoding: 'utf8', timeout: 5 * 60 * 1000 });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
