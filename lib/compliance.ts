import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Turns on the two rule packs every synth of this app runs: cdk-nag AwsSolutions and the AWS
 * Control Tower proactive controls (cfn-guard). Any unacknowledged finding fails `app.synth()`.
 */
export function addRulePacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
}

/** A rule acknowledged on a construct (and everything below it), with the reason a reviewer reads. */
export interface Acknowledgement {
  /** cdk-nag id (`AwsSolutions-S1`, granular `AwsSolutions-IAM4[Policy::...]`) or `cdk-validator-cfnguard::<rule>`. */
  readonly id: string;
  readonly reason: string;
}

/** Acknowledges rules on a construct; one place so every reason is written down next to its id. */
export function acknowledge(scope: IConstruct, ...acks: Acknowledgement[]): void {
  for (const a of acks) Validations.of(scope).acknowledge({ id: a.id, reason: a.reason });
}

/** Control Tower rule id in the form the cfn-guard plugin acknowledges. */
export const controlTower = (rule: string): string => `cdk-validator-cfnguard::${rule}`;

/**
 * Control Tower wants a year of log retention; environments that choose less (dev cost) say so here.
 * No-op at 365 days or more.
 */
export function acknowledgeShortRetention(logGroup: IConstruct, days: number): void {
  if (days >= 365) return;
  acknowledge(logGroup, {
    id: controlTower('cloudwatch_log_group_retention_period_check'),
    reason: `Retention of ${days} days is chosen by this environment's config to bound cost in a non-production environment; prod keeps these logs 365 days or more.`,
  });
}
