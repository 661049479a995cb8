/**
 * A fresh clone must work with the README's two commands alone. These checks fail on the shapes
 * that broke it before: a package with its own lockfile that only CI installed, a dependency the
 * root lock does not install, and a CI script that runs more (or other) than the README says.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
const rootPackage = JSON.parse(read('package.json'));
const lock = JSON.parse(read('package-lock.json'));
/** Packages a bench installs on demand into its own folder (never npm ci): the comparable blueprints app. */
const BENCH_ONLY = ['bench/blueprints'];

describe('one npm workspace tree', () => {
  test('every package.json in the repository is the root or one of its workspaces', () => {
    const packages = tracked.filter((f) => path.basename(f) === 'package.json' && f !== 'package.json').map(path.dirname);
    expect(packages.length).toBeGreaterThan(0);
    expect(rootPackage.workspaces).toEqual(expect.arrayContaining(packages.filter((p) => !BENCH_ONLY.includes(p))));
    for (const bench of BENCH_ONLY) expect(rootPackage.workspaces).not.toContain(bench);
  });

  test('one lockfile, at the root', () => {
    expect(tracked.filter((f) => path.basename(f) === 'package-lock.json')).toEqual(['package-lock.json']);
    expect(lock.packages[''].workspaces).toEqual(rootPackage.workspaces);
  });

  test.each((rootPackage.workspaces as string[]).map((w) => [w]))('the root lock installs every dependency of %s at its pinned version', (workspace) => {
    const manifest = JSON.parse(read(path.join(workspace, 'package.json')));
    expect(lock.packages[workspace]?.name).toBe(manifest.name);
    const missing: string[] = [];
    for (const [name, spec] of Object.entries<string>({ ...manifest.dependencies, ...manifest.devDependencies })) {
      const entry = lock.packages[`${workspace}/node_modules/${name}`] ?? lock.packages[`node_modules/${name}`];
      if (!entry) missing.push(`${name}: not in package-lock.json`);
      else if (/^\d+\.\d+\.\d+$/.test(spec) && entry.version !== spec) missing.push(`${name}: pinned ${spec}, lock has ${entry.version}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('CI runs what the README says', () => {
  const readmeCommands = [...read('README.md').matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].split('\n'))
    .map((line) => line.replace(/#.*$/, '').trim());
  const ciLines = read('.ci/run').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test('the synth and test commands of the README are in .ci/run, verbatim', () => {
    for (const command of ['npm ci && npx cdk synth', 'npm test']) {
      expect(readmeCommands).toContain(command);
      expect(ciLines.some((l) => l.includes(command))).toBe(true);
    }
  });

  test('.ci/run installs nothing the README does not (no per-folder npm ci, no --prefix installs)', () => {
    const installs = ciLines.filter((l) => /\bnpm (ci|install|i)\b/.test(l));
    expect(installs).toHaveLength(1);
    expect(installs[0]).not.toMatch(/--prefix|--workspace|\bcd\b/);
  });
});
