import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1, PolicyViolationBeta1 } from 'aws-cdk-lib';

const PACKAGE = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
/** The Control Tower proactive-control rule files the plugin ships (one .guard file per control). */
export const CONTROL_TOWER_RULES_DIR = path.join(PACKAGE, 'rules', 'control-tower', 'cfn-guard');
const GUARD = path.join(PACKAGE, 'bin', os.platform() === 'darwin' ? 'macos' : 'ubuntu', os.arch() === 'arm64' ? 'aarch64' : 'x86_64', 'cfn-guard');

let index: { file: string; types: string[] }[] | undefined;

/** Every rule file with the resource types it names (`let RESOURCE_TYPE = "AWS::..."`, `Reports on:`); read once per process. */
export function ruleIndex(): { file: string; types: string[] }[] {
  if (!index) {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(dir, e.name));
        else if (e.name.endsWith('.guard')) files.push(path.join(dir, e.name));
      }
    };
    walk(CONTROL_TOWER_RULES_DIR);
    index = files.sort().map((file) => ({ file, types: [...new Set(fs.readFileSync(file, 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? [])] }));
  }
  return index;
}

/**
 * The rule files that can say anything about a template with these resource types: a rule
 * evaluates only resources of the types it names and SKIPs a template without them, so the
 * others change no result. A file that names no type is always kept.
 */
export function rulesFor(types: Set<string>): string[] {
  return ruleIndex().filter((r) => r.types.length === 0 || r.types.some((t) => types.has(t))).map((r) => r.file);
}

const typesOf = (template: string): Set<string> =>
  new Set(Object.values<any>(JSON.parse(fs.readFileSync(template, 'utf8')).Resources ?? {}).map((r) => String(r?.Type)));
const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

interface Job { readonly template: string; readonly rules: string[]; readonly out: string }
interface Run { readonly key: string; readonly dir: string; readonly jobs: Job[] }

/**
 * The AWS Control Tower proactive controls of `@cdklabs/cdk-validator-cfnguard`: the same rules,
 * the same cfn-guard and the same report, but cfn-guard gets each template with only the rule
 * files whose resource types it contains (209 rule runs over dev's 7 templates instead of
 * 7 × 237), one process per template, all at once (`start`, ideally while another pack runs).
 * Same plugin name, so `cdk-validator-cfnguard::<rule>` acknowledgements apply unchanged.
 */
export class ControlTowerRules implements IPolicyValidationPluginBeta1 {
  readonly name = 'cdk-validator-cfnguard';
  readonly version: string = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')).version;
  readonly ruleIds = ruleIndex().map((r) => path.basename(r.file, '.guard').replace('ct-', '').replace(/-/g, ''));
  private run?: Run;

  /** Starts cfn-guard on the templates in the background; `validate` collects the result. */
  start(context: IPolicyValidationContextBeta1): void {
    const key = context.templatePaths.join('\n');
    if (this.run?.key === key) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'control-tower-'));
    const jobs = context.templatePaths.map((template, i) => ({ template, rules: rulesFor(typesOf(template)), out: path.join(dir, String(i)) })).filter((j) => j.rules.length > 0);
    const script = jobs.map((j) => `"$0" validate ${j.rules.map((r) => `--rules ${quote(r)}`).join(' ')} --data ${quote(j.template)} `
      + `--output-format json --show-summary none --structured > ${quote(`${j.out}.json`)} 2> ${quote(`${j.out}.err`)}; echo $? > ${quote(`${j.out}.tmp`)}; mv ${quote(`${j.out}.tmp`)} ${quote(`${j.out}.status`)} &`).join('\n');
    const child = spawn('sh', ['-c', `${script}\nwait`, GUARD], { stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    this.run = { key, dir, jobs };
  }

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    this.start(context);
    const run = this.run!;
    this.run = undefined;
    const deadline = Date.now() + 600_000;
    let success = true;
    const violations: PolicyViolationBeta1[] = [];
    // The plugin's own parsing of cfn-guard's output, fed the output of the run above instead of running cfn-guard again.
    const utils: { exec: (...args: unknown[]) => unknown } = require('@cdklabs/cdk-validator-cfnguard/lib/utils');
    const exec = utils.exec;
    try {
      for (const job of run.jobs) {
        while (!fs.existsSync(`${job.out}.status`)) {
          if (Date.now() > deadline) throw new Error(`cfn-guard did not finish on ${job.template} in 10 minutes`);
          sleep(5);
        }
        const status = Number(fs.readFileSync(`${job.out}.status`, 'utf8'));
        utils.exec = () => {
          // cfn-guard exits 5 or 19 when a rule fails, like the plugin accepts.
          if (![0, 5, 19].includes(status)) throw new Error(`cfn-guard exited with status ${status}: ${fs.readFileSync(`${job.out}.err`, 'utf8').trim()}`);
          const output = fs.readFileSync(`${job.out}.json`, 'utf8').trim();
          return output.length ? JSON.parse(output) : {};
        };
        const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: job.rules }).validate({ ...context, templatePaths: [job.template] });
        success &&= report.success;
        violations.push(...report.violations);
      }
    } finally {
      utils.exec = exec;
      fs.rmSync(run.dir, { recursive: true, force: true });
    }
    return { success, violations };
  }
}
