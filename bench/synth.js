#!/usr/bin/env node
/**
 * Synth time and peak memory of this app against a comparable @aws-quickstart/eks-blueprints app
 * (bench/blueprints, installed there on demand, never by the root npm ci), run alternately so both
 * see the same machine load; prints the median of RUNS runs per variant and the ratio.
 *
 *   default     npx cdk synth --quiet -c env=ENV        every check: rule packs + CloudFormation validation
 *   no-packs    npx cdk synth --quiet -c rulePacks=false
 *   inner-loop  node bin/synth-quick.cjs -c env=ENV      no CLI, no checks (npm run synth:quick)
 *   app-only    node bin/app.cjs with cdk.json's context  what default runs, without the CDK CLI
 *   cli-only    npx cdk --version                        the CLI's own start-up, the floor under any cdk synth
 *   blueprints  npx cdk synth --quiet in bench/blueprints
 *
 * Every run writes a fresh output folder (asset staging included). Peak RSS is the largest single
 * process of the run (GNU time's %M), when /usr/bin/time exists.
 * Usage: node bench/synth.js [runs=5] [env=dev] [--only default,blueprints] [--json]
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const blueprints = path.join(__dirname, 'blueprints');
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--only');
const runs = Number(positional[0] ?? 5);
const env = positional[1] ?? 'dev';
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1].split(',') : undefined;
const json = process.argv.includes('--json');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const out = (name) => path.join(os.tmpdir(), `bench-synth-${process.pid}-${name}`);
const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;
const quietNpm = { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' };

const variants = [
  { name: 'default', cwd: root, cmd: ['npx', 'cdk', 'synth', '--quiet', '-c', `env=${env}`, '--output', out('default')] },
  { name: 'no-packs', cwd: root, cmd: ['npx', 'cdk', 'synth', '--quiet', '-c', `env=${env}`, '-c', 'rulePacks=false', '--output', out('no-packs')] },
  { name: 'inner-loop', cwd: root, cmd: ['node', 'bin/synth-quick.cjs', '-c', `env=${env}`, '-o', out('inner-loop')] },
  { name: 'app-only', cwd: root, cmd: ['node', 'bin/app.cjs'], env: { CDK_OUTDIR: out('app-only'), CDK_CONTEXT_JSON: JSON.stringify({ ...context, env }) } },
  { name: 'cli-only', cwd: root, cmd: ['npx', 'cdk', '--version'], noOutput: true },
  { name: 'blueprints', cwd: blueprints, cmd: ['npx', 'cdk', 'synth', '--quiet', '--output', out('blueprints')] },
].filter((v) => !only || only.includes(v.name));

if (variants.some((v) => v.name === 'blueprints') && !fs.existsSync(path.join(blueprints, 'node_modules', '@aws-quickstart', 'eks-blueprints'))) {
  process.stderr.write('bench: installing the comparable blueprints app into bench/blueprints (once) ...\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: blueprints, stdio: ['ignore', 'ignore', 'inherit'], env: quietNpm });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const gnuTime = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0;

function runOnce(v) {
  const dir = v.noOutput ? undefined : (v.env?.CDK_OUTDIR ?? v.cmd[v.cmd.length - 1]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  const argv = gnuTime ? ['/usr/bin/time', '-f', 'PEAK_RSS_KB=%M', ...v.cmd] : v.cmd;
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: v.cwd, env: { ...quietNpm, ...v.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) {
    process.stderr.write(`bench: ${v.name} failed (${v.cmd.join(' ')}):\n${(r.stderr ?? '').slice(-3000)}\n`);
    process.exit(1);
  }
  const rss = /PEAK_RSS_KB=(\d+)/.exec(r.stderr ?? '');
  const templates = dir ? fs.readdirSync(dir).filter((f) => f.endsWith('.template.json')).length : 0;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  return { seconds, rssMiB: rss ? Number(rss[1]) / 1024 : undefined, templates };
}

// One warm-up run each (transpile cache, page cache), not counted; then alternate, rotating who goes first.
for (const v of variants) runOnce(v);
const results = new Map(variants.map((v) => [v.name, []]));
for (let i = 0; i < runs; i++) {
  const order = variants.map((_, k) => variants[(k + i) % variants.length]);
  for (const v of order) results.get(v.name).push(runOnce(v));
}

const summary = variants.map((v) => {
  const rs = results.get(v.name);
  return {
    variant: v.name,
    command: v.cmd.join(' ').replace(os.tmpdir(), '$TMP'),
    medianSeconds: +median(rs.map((r) => r.seconds)).toFixed(2),
    minSeconds: +Math.min(...rs.map((r) => r.seconds)).toFixed(2),
    maxSeconds: +Math.max(...rs.map((r) => r.seconds)).toFixed(2),
    peakRssMiB: rs[0].rssMiB === undefined ? undefined : Math.round(Math.max(...rs.map((r) => r.rssMiB))),
    templates: rs[0].templates,
  };
});
const base = summary.find((s) => s.variant === 'blueprints');
for (const s of summary) if (base) s.ratioToBlueprints = +(s.medianSeconds / base.medianSeconds).toFixed(2);
if (json) {
  process.stdout.write(JSON.stringify({ env, runs, load: os.loadavg(), cpus: os.cpus().length, summary }, undefined, 2) + '\n');
} else {
  console.log(`synth of ${env}, median of ${runs} alternating runs, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows = summary.map((s) => [s.variant, s.medianSeconds.toFixed(2), `${s.minSeconds.toFixed(2)}-${s.maxSeconds.toFixed(2)}`, s.peakRssMiB ?? '-', s.templates || '-', s.ratioToBlueprints?.toFixed(2) ?? '-']);
  const header = ['variant', 'median s', 'range s', 'peak RSS MiB', 'templates', '× blueprints'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '));
  if (base) {
    const d = summary.find((s) => s.variant === 'default');
    if (d) console.log(`default / blueprints = ${(d.medianSeconds / base.medianSeconds).toFixed(2)} (goal <= 0.5)`);
  }
}
