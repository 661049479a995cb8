import { RemovalPolicy } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface AlertsStackProps extends PlatformStackProps {
  /**
   * Region of the topic: an alarm notifies a topic of its own region only, and CloudFront's and
   * the CloudFront web ACL's metrics live in us-east-1.
   * @default config.region
   */
  readonly region?: string;
}

/**
 * The environment's alarm topic (KMS-encrypted, TLS only, subscribers from
 * `observability.alarmEmails` and `observability.alarmHttpsEndpoints`). Deployed first: every
 * stack with alarms takes `alarmTopic` from here.
 */
export class AlertsStack extends PlatformStack {
  readonly alarmTopic: AlarmTopic;
  readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: AlertsStackProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: props.region ?? props.config.region } });
    const { appName, envName, observability, retainData } = this.config;
    this.alarmTopic = new AlarmTopic(this, 'Alarms', {
      displayName: `${appName} ${envName} alarms`,
      emails: observability.alarmEmails,
      httpsEndpoints: observability.alarmHttpsEndpoints,
      keyRemovalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.topic = this.alarmTopic.topic;
  }
}
