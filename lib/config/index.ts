import { ENVIRONMENTS } from './environments';
import { ENVIRONMENT_NAMES, EnvironmentName, PlatformConfig } from './types';
import { ConfigError, validateConfig } from './validate';

export * from './types';
export * from './validate';
export { ENVIRONMENTS } from './environments';

/**
 * Picks the environment config by name (from `-c env=NAME`), fills account/region from
 * CDK_DEFAULT_* when the config leaves them out, and validates it.
 */
export function loadConfig(envName: string | undefined, overrides: Partial<PlatformConfig> = {}): PlatformConfig {
  const name = envName ?? 'dev';
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(name, [`env: must be one of ${ENVIRONMENT_NAMES.join(', ')} (got ${JSON.stringify(name)}); pass it as -c env=NAME`]);
  }
  const base = ENVIRONMENTS[name as EnvironmentName];
  return validateConfig({
    ...base,
    account: base.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    ...overrides,
  });
}
