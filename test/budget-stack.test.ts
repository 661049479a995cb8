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

  test('alerts to the alarm topic of the alerts stack, which AWS Budgets may publish to (topic and key policy)', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const [[, budget]] = resourcesOf(template, 'AWS::Budgets::Budget');
    expect(JSON.stringify(budget.Properties.NotificationsWithSubscribers)).toContain(`"StackName":"${platform.alerts.stackName}"`);
    const alerts = Template.fromStack(platform.alerts);
    expect(JSON.stringify(resourcesOf(alerts, 'AWS::SNS::TopicPolicy')[0][1].Properties.PolicyDocument)).toContain('budgets.amazonaws.com');
    expect(JSON.stringify(resourcesOf(alerts, 'AWS::KMS::Key')[0][1].Properties.KeyPolicy)).toContain('budgets.amazonaws.com');
  });
});

describe('MonthlyBudget', () => {
  test('without a topic: its own, encrypted with its own key, that AWS Budgets may publish to', () => {
    const stack = new Stack(new App(), 'S');
    const budget = new MonthlyBudget(stack, 'B', { limitUsd: 10 });
    expect(budget.topicKey).toBeDefined();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SNS::Topic', 1);
    expect(JSON.stringify(resourcesOf(t, 'AWS::SNS::TopicPolicy')[0][1].Properties.PolicyDocument)).toContain('budgets.amazonaws.com');
    expect(JSON.stringify(resourcesOf(t, 'AWS::KMS::Key')[0][1].Properties.KeyPolicy)).toContain('budgets.amazonaws.com');
  });
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
