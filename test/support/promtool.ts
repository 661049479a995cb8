import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * promtool (Prometheus 3.x) through scripts/promtool.sh: the first call in a process runs `install`
 * (a one-off `go install`, several minutes on a cold machine, then cached; give that test a long timeout).
 */

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'promtool.sh');
let binary: string | undefined;

/** Path of the cached promtool binary, built on first use. */
export function promtoolPath(): string {
  if (binary) return binary;
  const r = spawnSync('bash', [SCRIPT, 'install'], { encoding: 'utf8', timeout: 60 * 60 * 1000 });
  if (r.status !== 0) throw new Error(`scripts/promtool.sh install failed (exit ${r.status}):\n${r.stderr}`);
  binary = r.stdout.trim().split('\n').pop()!;
  return binary;
}

export interface PromtoolResult {
  readonly status: number;
  readonly output: string;
}

/** Runs promtool ARGS in DIR (a fresh temporary directory holding FILES when DIR is left out). */
export function promtool(args: string[], files: Record<string, string> = {}): PromtoolResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const r = spawnSync(promtoolPath(), args, { cwd: dir, encoding: 'utf8', timeout: 5 * 60 * 1000 });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
