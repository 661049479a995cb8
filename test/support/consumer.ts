import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AlarmTopic } from '../../lib/constructs';
import { testApp } from './synth';

/**
 * A bare stack with a plain three-tier VPC, an application security group and an alarm topic, as a
 * user of one construct would have.
 */
export function consumerStack(options: { app?: App; id?: string; region?: string } = {}) {
  const app = options.app ?? testApp();
  const stack = new Stack(app, options.id ?? 'Consumer', { env: { account: '123456789012', region: options.region ?? 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const apps = new ec2.SecurityGroup(stack, 'Apps', { vpc });
  // Where the consumer's alarms go (Control Tower wants an action on every alarm).
  const alarmTopic = new AlarmTopic(stack, 'AlarmTopic').topic;
  return { app, stack, vpc, apps, alarmTopic };
}
