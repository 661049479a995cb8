#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { addRulePacks } from '../lib/rule-packs';
import { ConfigError, loadConfig } from '../lib/config';
import { buildPlatform } from '../lib/platform';

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
app.synth();
