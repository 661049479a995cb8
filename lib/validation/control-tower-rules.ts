import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1, PolicyViolationBeta1 } from 'aws-cdk-lib';

const PACKAGE = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
/** The Control Tower proactive-control rule files the plugin ships (one .guard file per control). */
export const CONTROL_TOWER_RULES_DIR = path.join(PACKAGE, 'rules', 'control-tower', 'cfn-guard');

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

/**
 * The AWS Control Tower proactive controls of `@cdklabs/cdk-validator-cfnguard`, the same rules and
 * the same report, but cfn-guard gets each template with only the rule files whose resource types
 * it contains (209 rule runs over dev's 7 templates instead of 7 × 237) instead of every rule file for every template: the
 * Control Tower pass of a synth drops from seconds to a fraction of one. Same plugin name, so
 * `cdk-validator-cfnguard::<rule>` acknowledgements apply unchanged.
 */
export class ControlTowerRules implements IPolicyValidationPluginBeta1 {
  readonly name = 'cdk-validator-cfnguard';
  readonly version: string = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')).version;
  readonly ruleIds = ruleIndex().map((r) => path.basename(r.file, '.guard').replace('ct-', '').replace(/-/g, ''));

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    let success = true;
    const violations: PolicyViolationBeta1[] = [];
    for (const template of context.templatePaths) {
      const rules = rulesFor(typesOf(template));
      if (rules.length === 0) continue;
      const report = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate({ ...context, templatePaths: [template] });
      success &&= report.success;
      violations.push(...report.violations);
    }
    return { success, violations };
  }
}
