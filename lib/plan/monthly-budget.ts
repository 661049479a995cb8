import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EncryptionKey } from '../constructs/encryption-key';

export interface MonthlyBudgetProps {
  /** The monthly cost limit in USD (above 0). */
  readonly limitUsd: number;
  /**
   * Name of the budget (unique in the account).
   * @default `<stack name>-monthly`
   */
  readonly budgetName?: string;
  /**
   * Topic the alerts go to; bring the platform's alarm topic when there is one.
   * @default - a topic of its own, encrypted with a key of its own (`topic`, `topicKey`)
   */
  readonly topic?: sns.ITopic;
  /**
   * Percentages of the limit at which actual spend alerts.
   * @default [80, 100]
   */
  readonly thresholdsPercent?: number[];
  /**
   * Cost allocation tags the budget counts (each must be activated as a cost allocation tag in
   * Billing, or the budget sees nothing), e.g. `{ environment: 'dev' }`.
   * @default - every cost of the account
   */
  readonly costAllocationTags?: Record<string, string>;
  /**
   * Removal policy of the topic key it creates.
   * @default RemovalPolicy.DESTROY (the key encrypts alerts in flight only)
   */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * An AWS Budgets cost budget per month that alerts on actual spend at 80 % and 100 % of the limit
 * (by default) to an SNS topic: its own encrypted topic, or one passed in.
 */
export class MonthlyBudget extends Construct {
  /** The budget. */
  readonly budget: budgets.CfnBudget;
  /** Where the alerts go: the topic passed in, or the one created. */
  readonly topic: sns.ITopic;
  /** The key of the created topic (undefined when a topic was passed in). */
  readonly topicKey?: EncryptionKey;

  constructor(scope: Construct, id: string, props: MonthlyBudgetProps) {
    super(scope, id);
    if (!(props.limitUsd > 0)) throw new Error(`MonthlyBudget: limitUsd must be above 0 (got ${props.limitUsd})`);
    const thresholds = props.thresholdsPercent ?? [80, 100];
    if (thresholds.length === 0 || thresholds.some((t) => !(t > 0 && t <= 1000))) {
      throw new Error(`MonthlyBudget: thresholdsPercent must be percentages from 1 to 1000 (got ${JSON.stringify(thresholds)})`);
    }
    const stack = Stack.of(this);
    const budgetsPrincipal = new iam.ServicePrincipal('budgets.amazonaws.com');
    if (props.topic) {
      this.topic = props.topic;
    } else {
      this.topicKey = new EncryptionKey(this, 'TopicKey', { description: `${stack.stackName}: budget alerts`, removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.DESTROY });
      // AWS Budgets publishes to an encrypted topic only when the key lets it.
      this.topicKey.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'BudgetsPublish',
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        principals: [budgetsPrincipal],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }));
      const topic = new sns.Topic(this, 'Topic', { displayName: `${stack.stackName} budget`, masterKey: this.topicKey, enforceSSL: true });
      topic.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'BudgetsPublish',
        actions: ['sns:Publish'],
        principals: [budgetsPrincipal],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }));
      this.topic = topic;
    }
    const tags = Object.entries(props.costAllocationTags ?? {});
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetName: props.budgetName ?? `${stack.stackName}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.limitUsd, unit: 'USD' },
        ...(tags.length ? { costFilters: { TagKeyValue: tags.map(([k, v]) => `user:${k}$${v}`) } } : {}),
      },
      notificationsWithSubscribers: thresholds.map((threshold) => ({
        notification: { notificationType: 'ACTUAL', comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
        subscribers: [{ subscriptionType: 'SNS', address: this.topic.topicArn }],
      })),
    });
  }
}
