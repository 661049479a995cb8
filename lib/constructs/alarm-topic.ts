import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key';

/** AWS services that publish alarms and events to the topic (key and topic policies let them). */
const PUBLISHERS = ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'budgets.amazonaws.com'];

export interface AlarmTopicProps {
  /**
   * Email addresses subscribed (each confirms once, from the mail AWS sends).
   * @default [] - no email subscription
   */
  readonly emails?: string[];
  /**
   * HTTPS endpoints subscribed (e.g. a relay to a chat channel; each confirms once).
   * @default [] - no HTTPS subscription
   */
  readonly httpsEndpoints?: string[];
  /**
   * Display name of the topic (the sender name of its emails).
   * @default - the construct path
   */
  readonly displayName?: string;
  /**
   * What a stack delete does to the key (it encrypts notifications in flight only).
   * @default RemovalPolicy.DESTROY
   */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * The SNS topic alarms notify: encrypted with a customer managed key that CloudWatch alarms,
 * EventBridge rules and AWS Budgets of this account may use, TLS-only publishing, and email and
 * HTTPS subscriptions. Pass `topic` as `alarmTopic` to the other constructs of this library.
 */
export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const bad = (props.httpsEndpoints ?? []).filter((u) => !/^https:\/\/[^\s]+$/.test(u));
    if (bad.length > 0) throw new Error(`AlarmTopic: httpsEndpoints must be https:// URLs (got ${bad.join(', ')})`);
    const principals = PUBLISHERS.map((p) => new iam.ServicePrincipal(p));
    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the alarm notifications of ${this.node.path}`,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An encrypted topic accepts a service's messages only when the key lets that service use it.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlarmPublishers',
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      principals,
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName ?? `Alarms ${this.node.path}`.slice(0, 100),
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlarmPublishers',
      actions: ['sns:Publish'],
      principals,
      resources: [this.topic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    for (const email of props.emails ?? []) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const url of props.httpsEndpoints ?? []) this.topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }));
  }
}
