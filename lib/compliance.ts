import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

// Acknowledgement helpers only: the constructs library ships this file, so it needs nothing but
// aws-cdk-lib. The rule packs themselves (cdk-nag, cfn-guard) are turned on in rule-packs.ts.

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

/**
 * Acknowledges the VPC rule on CDK's cross-region export Lambda (`Writer` in the producing stack,
 * `Reader` in the consuming one). CDK creates it while resolving references at synth, after every
 * constructor has run, so the acknowledgement is attached from a validation hook, which runs later.
 */
export function acknowledgeCrossRegionExports(stack: Stack, kind: 'Writer' | 'Reader'): void {
  stack.node.addValidation({
    validate: () => {
      const provider = stack.node.tryFindChild(`Custom::CrossRegionExport${kind}CustomResourceProvider`);
      if (provider) {
        acknowledge(provider, {
          id: controlTower('lambda_inside_vpc_check'),
          reason: `CDK's cross-region export ${kind.toLowerCase()} runs only during deployments and only calls the SSM API of the two `
            + 'regions with the exported values (resource names and ARNs, no data); a VPC attachment would add ENIs and NAT or endpoint paths for no protection.',
        });
      }
      return [];
    },
  });
}
