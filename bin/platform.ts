#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';
import { addRulePacks } from '../lib/rule-packs';
import { BackgroundCloudFormationValidation } from '../lib/validation/background-cfn-validation';

// CDK's built-in CloudFormation validation, its engine built on a worker thread while the tree is built.
const cfnValidation = process.env.CDK_VALIDATION === 'false' ? undefined : new BackgroundCloudFormationValidation();
const app = new App();
try {
  const config = loadConfig(app.node.tryGetContext('env'));
  buildPlatform(app, config);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
// cdk-nag AwsSolutions + Control Tower rules on every synth: a new finding fails synth.
if (app.node.tryGetContext('rulePacks') !== 'false' && app.node.tryGetContext('rulePacks') !== false) addRulePacks(app);
// Registered last, so it runs after the rule packs: its engine has had their time to get ready.
if (cfnValidation) Validations.of(app).addPlugins(cfnValidation);
app.synth();
