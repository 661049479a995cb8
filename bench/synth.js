#!/usr/bin/env node
/**
 * Synth time of the whole app, as a user runs it: `npx cdk synth --quiet -c env=ENV` from a clean
 * cdk.out, RUNS times per environment; prints each run and the median.
 * Usage: node bench/synth.js [runs=5] [env...=dev prod]
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const runs = Number(process.argv[2] ?? 5);
const envs = process.argv.length > 3 ? process.argv.slice(3) : ['dev', 'prod'];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

for (const env of envs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const out = path.join(root, 'bench', 'out', `cdk.out-${env}`);
    fs.rmSync(out, { recursive: true, force: true });
    const start = process.hrtime.bigint();
    try {
      execFileSync('npx', ['cdk', 'synth', '--quiet', '-c', `env=${env}`, '--output', out], { cwd: root, stdio: 'pipe', env: { ...process.env, npm_config_loglevel: 'error' } });
    } catch (e) {
      process.stderr.write(String(e.stderr ?? e));
      process.exit(1);
    }
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    const templates = fs.readdirSync(out).filter((f) => f.endsWith('.template.json'));
    if (i === 0) console.log(`${env}: ${templates.length} templates (${templates.join(', ')})`);
  }
  console.log(`${env}: runs ${times.map((t) => t.toFixed(1)).join(' ')} s; median ${median(times).toFixed(1)} s`);
}
