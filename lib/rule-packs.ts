import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Turns on the two rule packs every synth of this app runs: cdk-nag AwsSolutions and the AWS
 * Control Tower proactive controls (cfn-guard). Any unacknowledged finding fails `app.synth()`.
 * Kept apart from compliance.ts: the constructs library ships that file, and its users need
 * neither cdk-nag nor cfn-guard.
 */
export function addRulePacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
}
