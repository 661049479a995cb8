import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addRulePacks } from '../../lib/compliance';

/** A test app: no asset staging (the kubectl layer alone is ~57 MB a synth), own temp outdir. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-')),
    context: { 'aws:cdk:disable-asset-staging': true, ...context },
  });
}

export interface Finding {
  readonly pack: string;
  readonly rule: string;
  readonly path: string;
}

/**
 * Synthesizes `app` with both rule packs on and returns every unacknowledged finding
 * (empty when the app is clean). Reads the validation report the CDK writes.
 */
export function rulePackFindings(app: App): Finding[] {
  addRulePacks(app);
  try {
    app.synth();
  } catch (e) {
    if (!/Validation failed/.test(String(e))) throw e;
  }
  const report = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(report)) return [];
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  return json.pluginReports.flatMap((r: any) =>
    (r.violations ?? []).flatMap((v: any) =>
      v.violatingConstructs.map((c: any) => ({ pack: r.pluginName, rule: v.ruleName, path: c.constructPath })),
    ),
  );
}

/** Template of a stack with asset hashes left in (use the snapshot serializer for snapshots). */
export const templateOf = (stack: Stack): Template => Template.fromStack(stack);

/** Counts acknowledgements per rule pack in the synthesized metadata of the given stacks. */
export function acknowledgementCounts(app: App): Record<string, number> {
  const counts: Record<string, number> = {};
  const asm = app.synth();
  for (const artifact of asm.stacks) {
    for (const entries of Object.values(artifact.manifest.metadata ?? {})) {
      for (const entry of entries) {
        if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const id of Object.keys(entry.data as object)) {
          const pack = id.startsWith('cdk-validator-cfnguard::') ? 'cfn-guard (Control Tower)' : 'cdk-nag AwsSolutions';
          counts[pack] = (counts[pack] ?? 0) + 1;
        }
      }
    }
  }
  return counts;
}
