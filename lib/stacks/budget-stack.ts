import { RemovalPolicy } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { MonthlyBudget } from '../plan/monthly-budget';
import { PlatformStack, PlatformStackProps } from './platform-stack';

export interface BudgetStackProps extends PlatformStackProps {
  /**
   * Topic for the alerts (e.g. an observability stack's alarm topic, once there is one).
   * @default - the budget's own encrypted topic
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The environment's monthly cost budget (`budgetUsdPerMonth`): alerts at 80 % and 100 % of actual
 * spend, counting the costs tagged `environment=<env>` (activate that cost allocation tag).
 */
export class BudgetStack extends PlatformStack {
  readonly budget: MonthlyBudget;

  constructor(scope: Construct, id: string, props: BudgetStackProps) {
    super(scope, id, props);
    const { envName, budgetUsdPerMonth, retainData } = this.config;
    this.budget = new MonthlyBudget(this, 'Monthly', {
      limitUsd: budgetUsdPerMonth,
      budgetName: `${this.stackName}-monthly`,
      topic: props.alarmTopic,
      costAllocationTags: { environment: envName },
      keyRemovalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
