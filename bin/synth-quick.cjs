#!/usr/bin/env node
/**
 * The inner loop: `npm run synth:quick -- [-c env=dev] [-c key=value ...] [-o cdk.out]`. Runs the app
 * straight from node with cdk.json's context: no CDK CLI, no rule packs, no CloudFormation
 * validation, no asset staging. It writes the templates and nothing checks them, so it is for
 * looking at templates while editing; `npx cdk synth` (every check) is the gate, in CI too.
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const started = process.hrtime.bigint();
const context = { ...JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context, rulePacks: 'false', 'aws:cdk:disable-asset-staging': true };
let out = path.join(root, 'cdk.out');
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]) {
    const [k, ...v] = args[++i].split('=');
    context[k] = v.join('=');
  } else if ((args[i] === '-o' || args[i] === '--output') && args[i + 1]) out = path.resolve(args[++i]);
  else {
    console.error(`synth-quick: unknown argument ${args[i]}\nusage: npm run synth:quick -- [-c env=dev] [-c key=value ...] [-o cdk.out]`);
    process.exit(2);
  }
}
process.env.CDK_CONTEXT_JSON = JSON.stringify(context);
process.env.CDK_OUTDIR = out;
process.env.CDK_VALIDATION = 'false';
process.on('exit', (code) => {
  if (code !== 0) return;
  const templates = fs.readdirSync(out).filter((f) => f.endsWith('.template.json')).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`synth-quick: ${templates} templates of ${context.env} in ${path.relative(process.cwd(), out) || '.'} (${seconds.toFixed(1)} s; no rule packs, no validation: npx cdk synth is the gate)`);
});
require('./app.cjs').run();
