#!/usr/bin/env node
// Where a gateway's CPU went, from a V8 CPU profile: the top frames by self time and the share of
// each package (idle left out). Profiles come from the bench:
//   BENCH_ONLY=b BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench --prefix services
//   node bench/gateway/cpu-top.js /tmp/prof/CPU.*.cpuprofile [frames, default 20]
// On a machine with more runnable processes than cores, V8's sampler lands on the return from a
// system call more often than its share (a descheduled thread is sampled when it runs again), so
// socket writes read larger than they are: compare frames within one profile, and CPU time from the
// bench (/proc) across runs.
'use strict';

const { readFileSync } = require('node:fs');

const [file, count = '20'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/gateway/cpu-top.js <file.cpuprofile> [frames]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

const where = (url) => {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /services\/dist\/(.*)/.exec(url);
  return ours ? `services:${ours[1]}` : url;
};
let busy = 0;
let idle = 0;
const frames = new Map();
const packages = new Map();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  const file = url.replace(/.*node_modules\//, '').replace(/.*services\/dist\//, 'services:');
  const frame = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : '(native)'}`;
  frames.set(frame, (frames.get(frame) ?? 0) + us);
  const pkg = url ? where(url) : `(native) ${functionName}`;
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
}
const share = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const top = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(count));
console.log(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
console.log('top frames, self time:');
for (const [name, us] of top(frames)) console.log(`${share(us)}  ${name}`);
console.log('by package, self time:');
for (const [name, us] of top(packages)) console.log(`${share(us)}  ${name}`);
