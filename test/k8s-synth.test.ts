/** `npm run k8s:synth`: plain YAML per chart with concrete values for GitOps, or a clear refusal. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Yaml } from 'cdk8s';
import { synthK8s } from '../bin/k8s-synth';
import { loadConfig } from '../lib/config';
import { validateManifests } from './support/kubeconform';
import { exampleEndpoints, outputsFile } from './support/workloads';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-synth-'));
const writeValues = (dir: string, values: unknown) => {
  const file = path.join(dir, 'outputs.json');
  fs.writeFileSync(file, JSON.stringify(values));
  return file;
};

describe.each(['dev', 'prod'])('k8s:synth -c env=%s', (env) => {
  const config = loadConfig(env);

  test('writes one valid YAML file per chart, in apply order, with the deployed values', () => {
    const dir = tmp();
    const files = synthK8s({ env, valuesFile: writeValues(dir, outputsFile(config, exampleEndpoints(config))), outDir: path.join(dir, 'out') });
    expect(files.map((f) => path.basename(f))).toEqual(['01-namespace.yaml', '02-registry.yaml', '03-telemetry.yaml', '04-gateway.yaml', '05-services.yaml', '06-jobs.yaml', '07-smoke.yaml']);
    const docs = files.flatMap((f) => Yaml.load(f)) as Record<string, unknown>[];
    const result = validateManifests(docs, `gitops-${env}`);
    expect(result.errors).toEqual([]);
    const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(text).toContain(exampleEndpoints(config).targetGroupArn);
    expect(text).toContain('platform-services:1.2.3');
  }, 30 * 60_000);

  test('refuses a values file that lacks outputs, naming them', () => {
    const dir = tmp();
    const values = outputsFile(config, exampleEndpoints(config));
    const stack = Object.keys(values)[0];
    delete values[stack].RedisHost;
    delete values[stack].Image;
    expect(() => synthK8s({ env, valuesFile: writeValues(dir, values), outDir: dir })).toThrow(/missing output\(s\) Image, RedisHost/);
    expect(() => synthK8s({ env, valuesFile: writeValues(dir, {}), outDir: dir })).toThrow(`no outputs of stack ${stack}`);
  });

  test('refuses to write an unresolved CDK token', () => {
    const dir = tmp();
    const values = outputsFile(config, exampleEndpoints(config));
    Object.values(values)[0].MysqlHost = '${Token[TOKEN.123]}';
    expect(() => synthK8s({ env, valuesFile: writeValues(dir, values), outDir: path.join(dir, 'out') })).toThrow(/unresolved CDK tokens would be written to 05-services.yaml, 06-jobs.yaml/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });
});

test('the npm script fails with one clear line for a bad environment or a missing --values', () => {
  const run = (...args: string[]) => {
    try {
      execFileSync('npx', ['ts-node', '--transpile-only', 'bin/k8s-synth.ts', ...args], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e) {
      return String((e as { stderr: string }).stderr);
    }
  };
  expect(run('-c', 'env=qa', '--values', 'x.json')).toMatch(/env: must be one of dev, staging, prod/);
  expect(run('-c', 'env=dev')).toMatch(/--values FILE is required/);
}, 60_000);
