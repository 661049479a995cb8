import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, PlatformConfig } from '../../lib/config';
import { buildPlatform, Platform } from '../../lib/platform';
import { testApp } from './synth';

export const ENVS = ['dev', 'staging', 'prod'] as const;

/** One environment's app and stacks, built for a test file. */
export interface Built {
  readonly app: App;
  readonly config: PlatformConfig;
  readonly platform: Platform;
}

export function build(env: string, overrides: Partial<PlatformConfig> = {}): Built {
  const app = testApp();
  const config = loadConfig(env, overrides);
  return { app, config, platform: buildPlatform(app, config) };
}

/** Every resource of a type as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): [string, any][] {
  return Object.entries(template.findResources(type));
}
