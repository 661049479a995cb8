import { Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PlatformConfig } from '../config';

export interface PlatformStackProps extends StackProps {
  readonly config: PlatformConfig;
}

/**
 * Base of every stack of the app: environment from config, tags, and availability zones named
 * from config so synth never asks AWS for them (offline synth with an explicit account).
 */
export class PlatformStack extends Stack {
  readonly config: PlatformConfig;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    const { config } = props;
    super(scope, id, {
      env: { account: config.account, region: config.region },
      ...props,
    });
    this.config = config;
    Tags.of(this).add('environment', config.envName);
    Tags.of(this).add('application', config.appName);
  }

  /** `<region>a`, `<region>b`, ... for network.maxAzs zones: no context lookup at synth. */
  override get availabilityZones(): string[] {
    if (this.config?.network.availabilityZones) return this.config.network.availabilityZones;
    const letters = 'abcdef';
    const region = this.config?.region ?? this.region;
    return Array.from({ length: this.config?.network.maxAzs ?? 2 }, (_, i) => `${region}${letters[i]}`);
  }
}
