#!/usr/bin/env node
/**
 * Plain YAML of the workload charts for GitOps (Argo CD, Flux), with concrete values:
 *
 *   npm run k8s:synth -- -c env=prod --values cdk-outputs.json [--out dist/k8s]
 *
 * `--values` is the file `npx cdk deploy --all -c env=prod --outputs-file cdk-outputs.json` writes
 * (the workloads stack's outputs). Writes <out>/<env>/NN-<chart>.yaml in apply order and fails if a
 * value is missing or any unresolved CDK token would be written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Yaml } from 'cdk8s';
import { buildWorkloadCharts, chartEntries } from '../k8s/app';
import { ConfigError, loadConfig, PlatformConfig } from '../lib/config';
import { endpointsFromOutputs, workloadSettings } from '../lib/workloads/settings';

/** What a CDK token or CloudFormation intrinsic looks like once printed. */
const UNRESOLVED = /\$\{Token\[|Fn::|"Ref"|\{\{resolve:|#\{/;

export interface K8sSynthOptions {
  readonly env: string;
  readonly valuesFile: string;
  readonly outDir: string;
  /** Changes to the environment's config before rendering (validated like it), e.g. another namespace for a test run. */
  readonly overrides?: Partial<PlatformConfig>;
}

/** Returns the files written. Throws with a message naming what is wrong. */
export function synthK8s(o: K8sSynthOptions): string[] {
  const config = loadConfig(o.env, o.overrides);
  if (!fs.existsSync(o.valuesFile)) throw new Error(`--values ${o.valuesFile}: no such file`);
  const values = JSON.parse(fs.readFileSync(o.valuesFile, 'utf8')) as Record<string, Record<string, unknown>>;
  const stack = `${config.appName}-${config.envName}-workloads`;
  if (!values[stack]) throw new Error(`--values ${o.valuesFile}: no outputs of stack ${stack} (has: ${Object.keys(values).join(', ') || 'none'})`);
  const settings = workloadSettings(config, endpointsFromOutputs(values[stack], `--values ${o.valuesFile} [${stack}]`));
  const charts = chartEntries(buildWorkloadCharts(new App(), settings));
  const dir = path.join(o.outDir, config.envName);
  const docs = charts.map(([name, chart], i) => [path.join(dir, `${String(i + 1).padStart(2, '0')}-${name}.yaml`), Yaml.stringify(...chart.toJson())] as const);
  const unresolved = docs.filter(([, text]) => UNRESOLVED.test(text)).map(([file]) => path.basename(file));
  if (unresolved.length) throw new Error(`unresolved CDK tokens would be written to ${unresolved.join(', ')}: every value must be concrete for GitOps`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of docs) fs.writeFileSync(file, text);
  return docs.map(([file]) => file);
}

function parseArgs(argv: string[]): K8sSynthOptions {
  let env = 'dev';
  let valuesFile = '';
  let outDir = path.join('dist', 'k8s');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '-c' || a === '--context') {
      const [k, v] = next().split('=');
      if (k === 'env') env = v;
    } else if (a === '--values') valuesFile = next();
    else if (a === '--out') outDir = next();
    else throw new Error(`unknown argument ${a}; usage: npm run k8s:synth -- -c env=ENV --values FILE [--out DIR]`);
  }
  if (!valuesFile) throw new Error('--values FILE is required (the --outputs-file of cdk deploy); usage: npm run k8s:synth -- -c env=ENV --values FILE [--out DIR]');
  return { env, valuesFile, outDir };
}

if (require.main === module) {
  try {
    for (const file of synthK8s(parseArgs(process.argv.slice(2)))) console.log(file);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `k8s:synth: ${(e as Error).message}`);
    process.exit(1);
  }
}
