import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';

/** A validation that can begin on the templates in the background and report later. */
export interface StartableValidation {
  start(context: IPolicyValidationContext): void;
}

/**
 * Wraps the first validation plugin of a synth: when CDK hands it the templates, the others start
 * working on them in the background (cfn-guard processes, the CloudFormation engine's thread)
 * while this one runs, so the packs overlap instead of queueing. Same name, rules and report.
 */
export class StartFirst implements IPolicyValidationPlugin {
  readonly name: string;
  readonly version?: string;
  readonly ruleIds?: string[];

  constructor(private readonly inner: IPolicyValidationPlugin, private readonly starters: (StartableValidation | undefined)[]) {
    this.name = inner.name;
    this.version = inner.version;
    this.ruleIds = inner.ruleIds;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    for (const s of this.starters) s?.start(context);
    return this.inner.validate(context);
  }
}
