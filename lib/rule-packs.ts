import { App, Validations } from 'aws-cdk-lib';

/**
 * Turns on the two rule packs every synth of this app runs: cdk-nag AwsSolutions and the AWS
 * Control Tower proactive controls (cfn-guard). Any unacknowledged finding fails `app.synth()`.
 * Kept apart from compliance.ts: the constructs library ships that file, and its users need
 * neither cdk-nag nor cfn-guard.
 */
export function addRulePacks(app: App): void {
  // Loaded here, not on import: an app without rule packs (-c rulePacks=false, most tests) never pays for them.
  const { AwsSolutionsChecks }: typeof import('cdk-nag') = require('cdk-nag');
  // The same Control Tower rules as CfnGuardValidator, each template checked only against the rule files of its resource types.
  const { ControlTowerRules }: typeof import('./validation/control-tower-rules') = require('./validation/control-tower-rules');
  const { StartFirst }: typeof import('./validation/start-first') = require('./validation/start-first');
  const { BackgroundCloudFormationValidation }: typeof import('./validation/background-cfn-validation') = require('./validation/background-cfn-validation');
  const controlTower = new ControlTowerRules();
  // While cdk-nag runs here, cfn-guard and the CloudFormation engine already work on the templates.
  Validations.of(app).addPlugins(new StartFirst(new AwsSolutionsChecks(app), [controlTower, BackgroundCloudFormationValidation.current]), controlTower);
}
