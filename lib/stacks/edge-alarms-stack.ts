import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeCrossRegionExports } from '../compliance';
import { CdnAlarms } from '../constructs/cdn';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface EdgeAlarmsStackProps extends PlatformStackProps {
  /** The edge stack's distribution (its id arrives through crossRegionReferences). */
  readonly distribution: cloudfront.IDistribution;
  /** The us-east-1 alarm topic. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * The CloudFront alarms, in us-east-1 where CloudFront publishes its metrics (an alarm watches its
 * own region only). Deployed after the edge stack; only when the app's region is not us-east-1
 * (there the edge stack's Cdn holds them itself).
 */
export class EdgeAlarmsStack extends PlatformStack {
  readonly cdnAlarms: CdnAlarms;

  constructor(scope: Construct, id: string, props: EdgeAlarmsStackProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: 'us-east-1' }, crossRegionReferences: true });
    this.cdnAlarms = new CdnAlarms(this, 'Cdn', { distribution: props.distribution, alarmTopic: props.alarmTopic });
    acknowledgeCrossRegionExports(this, 'Reader');
  }
}
