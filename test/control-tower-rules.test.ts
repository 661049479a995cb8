/**
 * ControlTowerRules must report exactly what CfnGuardValidator with every Control Tower rule file
 * reports: it only skips rule files that name none of a template's resource types.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { ControlTowerRules, ruleIndex, rulesFor } from '../lib/validation/control-tower-rules';
import { build } from './support/platform';

/** rule | template | resource, for every violating resource. */
const findings = (r: PolicyValidationPluginReportBeta1) => r.violations
  .flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} | ${path.basename(res.templatePath)} | ${res.resourceLogicalId}`))
  .sort();

test.each(['dev', 'prod'])('the same findings as every Control Tower rule file on the %s templates', (env) => {
  const { app } = build(env);
  const outdir = app.synth().directory;
  const templatePaths = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
  const context = { templatePaths } as unknown as IPolicyValidationContextBeta1;
  const all = new CfnGuardValidator().validate(context);
  const selected = new ControlTowerRules().validate(context);
  expect(findings(all).length).toBeGreaterThan(0); // acknowledged findings exist, so the comparison means something
  expect(findings(selected)).toEqual(findings(all));
  expect(selected.success).toBe(all.success);
}, 120_000);

test('a rule file is kept for every resource type it names, and always when it names none', () => {
  const index = ruleIndex();
  expect(index.length).toBe(fs.readdirSync(path.dirname(path.dirname(index[0].file)), { recursive: true }).filter((f) => String(f).endsWith('.guard')).length);
  for (const r of index) {
    for (const t of r.types) expect(rulesFor(new Set([t]))).toContain(r.file);
  }
  expect(rulesFor(new Set())).toEqual(index.filter((r) => r.types.length === 0).map((r) => r.file));
  expect(new ControlTowerRules().name).toBe(new CfnGuardValidator().name);
});
