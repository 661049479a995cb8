import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadConfig } from '../config';
import { Assembly, PlanError, readAssembly } from './assembly';
import { buildPlan, comparePlans, Plan } from './plan';
import { renderComparison, renderPlan } from './render-text';
import { architectureDot, ganttDot, planHtml, renderDot } from './render-svg';

export interface PlanArgs {
  readonly env: string;
  readonly compare?: string;
  readonly json: boolean;
  readonly concurrency: number;
  /** Cloud assembly of `env`. @default cdk.out (synthesized there when it lacks the env's stacks or is older than the sources) */
  readonly assembly?: string;
  /** Where the files go. @default cdk.out/plan */
  readonly out: string;
  readonly synth: 'auto' | 'always' | 'never';
  readonly svg: boolean;
  readonly refreshPrices: boolean;
}

const USAGE = `usage: npm run plan -- [-c env=dev] [--compare ENV] [--json] [--concurrency 3] [--assembly DIR] [--out DIR]
                     [--synth | --no-synth] [--no-svg] [--refresh-prices]`;

/** Parses `npm run plan --` arguments; throws a PlanError with the usage on anything unknown. */
export function parseArgs(argv: string[]): PlanArgs {
  let env = 'dev';
  const a: Record<string, any> = { json: false, concurrency: 3, out: path.join('cdk.out', 'plan'), synth: 'auto', svg: true, refreshPrices: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new PlanError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '-c' || arg === '--context') {
      const [k, v] = value().split('=');
      if (k === 'env') env = v;
      // Other context keys are passed to synth unchanged by cdk.json; the plan only needs env.
    } else if (arg.startsWith('--context=')) {
      const [k, v] = arg.slice('--context='.length).split('=');
      if (k === 'env') env = v;
    } else if (arg === '--compare') a.compare = value();
    else if (arg === '--json') a.json = true;
    else if (arg === '--concurrency') a.concurrency = Number(value());
    else if (arg === '--assembly' || arg === '-a') a.assembly = value();
    else if (arg === '--out') a.out = value();
    else if (arg === '--synth') a.synth = 'always';
    else if (arg === '--no-synth') a.synth = 'never';
    else if (arg === '--no-svg') a.svg = false;
    else if (arg === '--refresh-prices') a.refreshPrices = true;
    else if (arg === '-h' || arg === '--help') throw new PlanError(USAGE);
    else throw new PlanError(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!Number.isInteger(a.concurrency) || a.concurrency < 1) throw new PlanError(`--concurrency must be a positive integer (got ${a.concurrency})`);
  return { env, ...a } as PlanArgs;
}

const root = path.resolve(__dirname, '..', '..');

/** Newest modification time of the app's sources (what a synth reads). */
function sourcesMtime(): number {
  let newest = fs.statSync(path.join(root, 'cdk.json')).mtimeMs;
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ts|js|json)$/.test(e.name) && !e.name.endsWith('.d.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  for (const d of ['bin', 'lib', 'k8s']) walk(path.join(root, d));
  return newest;
}

/** True when `dir` holds a synthesized `<app>-<env>-*` app newer than the sources. */
function assemblyIsCurrent(dir: string, prefix: string): boolean {
  const manifest = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifest)) return false;
  try {
    const artifacts = JSON.parse(fs.readFileSync(manifest, 'utf8')).artifacts ?? {};
    const ours = Object.entries<any>(artifacts).filter(([n, a]) => a.type === 'aws:cloudformation:stack' && n.startsWith(prefix));
    return ours.length > 0 && fs.statSync(manifest).mtimeMs >= sourcesMtime();
  } catch {
    return false;
  }
}

/** `cdk synth` of one environment into `dir`, with the project's pinned CLI (no credentials, offline). */
function synthesize(env: string, dir: string): void {
  process.stderr.write(`plan: synthesizing ${env} into ${dir} ...\n`);
  const cli = path.join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const r = spawnSync(process.execPath, [cli, 'synth', '--quiet', '-c', `env=${env}`, '--output', dir], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new PlanError(`cdk synth -c env=${env} failed:\n${(r.stderr ?? '').trim().split('\n').slice(-25).join('\n')}`);
}

/** The assembly of `env`: the given or default directory, synthesized when needed (see PlanArgs.synth). */
export function assemblyFor(env: string, args: Pick<PlanArgs, 'synth'> & { assembly?: string }, fallbackDir: string): Assembly {
  const config = loadConfig(env); // throws a ConfigError naming the environments for an unknown env
  const prefix = `${config.appName}-${env}-`;
  const dir = args.assembly ?? fallbackDir;
  if (args.synth === 'always' || (args.synth === 'auto' && !assemblyIsCurrent(dir, prefix))) synthesize(env, dir);
  const assembly = readAssembly(dir);
  const stacks = assembly.stacks.filter((s) => s.name.startsWith(prefix));
  if (stacks.length === 0) {
    throw new PlanError(`the cloud assembly at ${dir} has no stack of ${env} (${prefix}*; it has ${assembly.stacks.map((s) => s.name).join(', ')}): synthesize it with npx cdk synth -c env=${env}`);
  }
  return { ...assembly, stacks };
}

/** Ensures Graphviz is on PATH, installing it with the project's script when missing. */
export function ensureGraphviz(): void {
  if (spawnSync('dot', ['-V'], { stdio: 'ignore' }).status === 0) return;
  process.stderr.write('plan: Graphviz is missing; installing it (scripts/plan-tools.sh graphviz) ...\n');
  const r = spawnSync('bash', [path.join(root, 'scripts', 'plan-tools.sh'), 'graphviz'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new PlanError('Graphviz is not installed and scripts/plan-tools.sh could not install it (needs root and the Debian archive); install graphviz, or pass --no-svg');
}

/** Writes `<env>.json`, `<env>.txt`, `<env>-architecture.svg`, `<env>-deploy.svg` and `<env>.html`; returns the paths. */
export function writePlanFiles(plan: Plan, assembly: Assembly, text: string, outDir: string, svg: boolean): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string) => {
    const file = path.join(outDir, name);
    fs.writeFileSync(file, content);
    files.push(file);
  };
  write(`${plan.env}.json`, JSON.stringify(plan, undefined, 2) + '\n');
  write(`${plan.env}.txt`, text + '\n');
  if (svg) {
    ensureGraphviz();
    const arch = renderDot(architectureDot(plan, assembly));
    const gantt = renderDot(ganttDot(plan));
    write(`${plan.env}-architecture.svg`, arch);
    write(`${plan.env}-deploy.svg`, gantt);
    write(`${plan.env}.html`, planHtml(plan, arch, gantt, text));
  }
  return files;
}

/** `npm run plan`: returns the exit code (1 on a bad input, with the reason on stderr). */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.refreshPrices) {
      const { refreshPrices } = await import('./refresh-prices');
      const file = await refreshPrices();
      process.stdout.write(`prices rebuilt from the AWS Price List API: ${file}\n`);
      return 0;
    }
    const assembly = assemblyFor(args.env, args, 'cdk.out');
    const plan = buildPlan(assembly, { env: args.env, concurrency: args.concurrency });
    const text = renderPlan(plan);
    const files = writePlanFiles(plan, assembly, text, args.out, args.svg);
    let comparison: string | undefined;
    let comparisonJson: unknown;
    if (args.compare) {
      const other = assemblyFor(args.compare, { synth: args.synth }, path.join(args.out, `${args.compare}.assembly`));
      const otherPlan = buildPlan(other, { env: args.compare, concurrency: args.concurrency });
      files.push(...writePlanFiles(otherPlan, other, renderPlan(otherPlan), args.out, args.svg));
      comparisonJson = comparePlans(plan, otherPlan);
      comparison = renderComparison(comparisonJson as ReturnType<typeof comparePlans>);
    }
    if (args.json) {
      process.stdout.write(JSON.stringify(comparisonJson ? { plan, comparison: comparisonJson } : plan, undefined, 2) + '\n');
    } else {
      process.stdout.write(text + '\n');
      if (comparison) process.stdout.write(`\nCOMPARE\n${comparison}\n`);
      process.stdout.write(`\nFiles: ${files.join(', ')}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof PlanError || e instanceof ConfigError) {
      process.stderr.write(`plan: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** For tests: the plan tool's own `dot` check. */
export const hasDot = (): boolean => {
  try {
    execFileSync('dot', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
