#!/usr/bin/env node
/**
 * Deploy waves from a synthesized cloud assembly: stacks in one wave have no dependency on each
 * other, so `cdk deploy --all --concurrency N` builds them side by side.
 * Usage: node bench/deploy-waves.js [cdk.out]
 */
const fs = require('fs');
const path = require('path');

const dir = process.argv[2] ?? path.join(__dirname, '..', 'cdk.out');
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
const names = new Set(stacks.map(([name]) => name));
// Dependencies name asset-manifest artifacts too; keep the stack-to-stack edges.
const deps = new Map(stacks.map(([name, a]) => [name, (a.dependencies ?? []).filter((d) => names.has(d))]));

const waves = [];
const placed = new Set();
while (placed.size < names.size) {
  const wave = [...names].filter((n) => !placed.has(n) && deps.get(n).every((d) => placed.has(d)));
  if (wave.length === 0) throw new Error(`dependency cycle among ${[...names].filter((n) => !placed.has(n)).join(', ')}`);
  wave.sort().forEach((n) => placed.add(n));
  waves.push(wave);
}
waves.forEach((wave, i) => {
  const detail = wave.map((n) => `${n} [${manifest.artifacts[n].environment.replace('aws://', '')}]`).join(', ');
  console.log(`wave ${i + 1}: ${detail}`);
});
