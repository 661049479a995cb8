import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MonthlyBudget } from '../lib/plan/monthly-budget';
import { build, resourcesOf } from './support/platform';

describe('BudgetStack (dev)', () => {
  const { platform, config } = build('dev');
  const template = Template.fromStack(platform.budget);

  test('a monthly cost budget of budgetUsdPerMonth on the environment tag, alerting at 80 % and 100 % of actual spend', () => {
    const [[, budget]] = resourcesOf(template, 'AWS::Budgets::Budget');
    expect(budget.Properties.Budget).toMatchObject({
      BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: config.budgetUsdPerMonth, Unit: 'USD' },
      CostFilters: { TagKeyValue: ['user:environment$dev'] },
    });
    const notifications = budget.Properties.NotificationsWithSubscribers;
    expect(notifications.map((n: any) => [n.Notification.NotificationType, n.Notification.Threshold, n.Subscribers[0].SubscriptionType])).toEqual([['ACTUAL', 80, 'SNS'], ['ACTUAL', 100, 'SNS']]);
  });

  test('its own topic, encrypted with its own key, that AWS Budgets may publish to', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    const [[, topic]] = resourcesOf(template, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const policy = JSON.stringify(resourcesOf(template, 'AWS::SNS::TopicPolicy')[0][1].Properties.PolicyDocument);
    expect(policy).toContain('budgets.amazonaws.com');
    const key = JSON.stringify(resourcesOf(template, 'AWS::KMS::Key')[0][1].Properties.KeyPolicy);
    expect(key).toContain('budgets.amazonaws.com');
  });
});

describe('MonthlyBudget', () => {
  test('uses a topic passed in and creates none', () => {
    const stack = new Stack(new App(), 'S');
    const topic = new sns.Topic(stack, 'Alarms');
    const budget = new MonthlyBudget(stack, 'B', { limitUsd: 10, topic, thresholdsPercent: [50] });
    expect(budget.topic).toBe(topic);
    expect(budget.topicKey).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 1);
  });
  test('refuses a limit of 0 and a threshold outside 1-1000 %', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => new MonthlyBudget(stack, 'A', { limitUsd: 0 })).toThrow(/limitUsd must be above 0/);
    expect(() => new MonthlyBudget(stack, 'B', { limitUsd: 5, thresholdsPercent: [0] })).toThrow(/thresholdsPercent/);
  });
});
