import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { addRulePacks } from '../../lib/rule-packs';

/** cdk.json's context (feature flags, defaults): tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;

/**
 * A test app with cdk.json's context and feature flags, no asset staging (the kubectl layer alone is
 * ~57 MB a synth), and its own temp outdir.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-test-')),
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:disable-asset-staging': true, ...context },
  });
}

export interface Finding {
  readonly pack: string;
  readonly rule: string;
  readonly path: string;
  readonly description: string;
}

/**
 * Synthesizes `app` with both rule packs on and returns every unacknowledged finding
 * (empty when the app is clean). Reads the validation report the CDK writes.
 */
export function rulePackFindings(app: App): Finding[] {
  // A second synth returns the cached assembly without validating: refuse rather than report [].
  if (fs.existsSync(path.join(app.outdir, 'manifest.json'))) {
    throw new Error('rulePackFindings: the app was already synthesized (e.g. by Template.fromStack); call it first');
  }
  addRulePacks(app);
  try {
    app.synth();
  } catch (e) {
    if (!/Validation failed|ValidationFailed/.test(String(e))) throw e;
  }
  const report = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(report)) return [];
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  return json.pluginReports.flatMap((r: any) =>
    (r.violations ?? []).flatMap((v: any) =>
      v.violatingConstructs.map((c: any) => ({ pack: r.pluginName, rule: v.ruleName, path: c.constructPath, description: v.description })),
    ),
  );
}


export interface AcknowledgementRecord {
  readonly stack: string;
  readonly path: string;
  readonly id: string;
  readonly reason: string;
  /** `cdk-nag` or `cfn-guard` (Control Tower) or `cfn-validate` (CloudFormation's own checks). */
  readonly pack: string;
}

/** Every acknowledgement in the synthesized metadata of all stacks of `app`. */
export function acknowledgementsOf(app: App): AcknowledgementRecord[] {
  const out: AcknowledgementRecord[] = [];
  let assembly: CloudAssembly;
  try {
    assembly = app.synth();
  } catch {
    // Synth with findings throws, but the assembly (and its metadata) is on disk.
    assembly = new CloudAssembly(app.outdir);
  }
  for (const artifact of assembly.stacks) {
    for (const entry of artifact.findMetadataByType('aws:cdk:acknowledged-rules')) {
      for (const [id, reason] of Object.entries(entry.data as unknown as Record<string, string>)) {
        const pack = id.startsWith('cdk-validator-cfnguard::') ? 'cfn-guard' : id.startsWith('CloudFormation-Validate::') ? 'cfn-validate' : 'cdk-nag';
        out.push({ stack: artifact.stackName, path: entry.path, id, reason, pack });
      }
    }
  }
  return out;
}
