/**
 * The environment contract of each service and job that runs in production, for a test on the
 * Kubernetes side: `checkServiceEnv(service, envOfTheManifest)` returns what would stop the start
 * or be ignored.
 *
 * Nothing here is a second list of names: each service's variables are the specs its own code
 * parses with (`src/<service>/env.ts`, `src/jobs/env.ts`: the kit's, its data stores' from
 * `src/data/settings.ts`, its own), plus the `*_SECRET_ARN` variables that fill any of them
 * (`withSecrets`, src/kit/secrets.ts) and AWS_REGION with them. The rules over several variables
 * (exactly one JWT key, shard index < JOB_COMPLETIONS, one OpenSearch auth) are the services' own.
 *
 * Side-effect free and light: it imports only those spec modules (no client, no driver, no
 * framework), and reads no environment variable.
 */
import { parseConfig, type EnvRule, type VarSpec } from './kit/config';
import { SECRET_SOURCES, withSecrets } from './kit/secrets';
import { catalogEnv, catalogRules } from './catalog/env';
import { gatewayEnv, gatewayRules } from './gateway/env';
import { orderTimeoutEnv, orderTimeoutRules, searchSyncEnv, searchSyncRules } from './jobs/env';
import { orderEnv, orderRules } from './order/env';
import { loadgenEnv, smokeEnv } from './smoke/env';
import { userEnv, userRules } from './user/env';

export type { VarSpec };

interface Contract {
  readonly spec: Record<string, VarSpec<unknown>>;
  readonly rules: readonly EnvRule[];
}

const CONTRACTS: Readonly<Record<string, Contract>> = {
  gateway: { spec: withSecrets(gatewayEnv), rules: gatewayRules },
  user: { spec: withSecrets(userEnv), rules: userRules },
  catalog: { spec: withSecrets(catalogEnv), rules: catalogRules },
  order: { spec: withSecrets(orderEnv), rules: orderRules },
  'order-timeout': { spec: withSecrets(orderTimeoutEnv), rules: orderTimeoutRules },
  'search-sync': { spec: withSecrets(searchSyncEnv), rules: searchSyncRules },
  smoke: { spec: withSecrets(smokeEnv), rules: [] },
  loadgen: { spec: withSecrets(loadgenEnv), rules: [] },
};

/**
 * Every variable each production service reads, by SERVICE name (src/entries.ts; `echo` is for
 * tests), with its parser: `spec.parse(raw)` returns the value or throws an Error whose message
 * completes "NAME ...".
 */
export const SERVICE_ENV: Readonly<Record<string, Readonly<Record<string, VarSpec<unknown>>>>> = Object.fromEntries(
  Object.entries(CONTRACTS).map(([name, c]) => [name, c.spec]),
);

/**
 * Variables a container may carry that no service reads but the runtime does: the entry's
 * SERVICE, Node's own, the process basics, the AWS SDK's (`AWS_*`: credentials of EKS Pod
 * Identity, endpoints, ...) and the ones Kubernetes injects (`KUBERNETES_*`). A trailing `*`
 * matches any rest.
 */
export const RUNTIME_ENV_ALLOWLIST: readonly string[] = [
  'SERVICE',
  'NODE_ENV',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'TZ',
  'PATH',
  'HOME',
  'HOSTNAME',
  'AWS_*',
  'KUBERNETES_*',
];

function allowed(name: string): boolean {
  return RUNTIME_ENV_ALLOWLIST.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/** Stands for a value a secret will fill at start (shaped like what that JSON key holds). */
const fromSecret = (key: string): string => (key === 'email' ? 'value-from-secret@example.com' : 'value-from-secret');

/**
 * The problems of `env` as the environment of `service` (empty: it would start): an unknown
 * service; each variable that fails its parser (a required one that is missing included; a
 * variable a set `*_SECRET_ARN` fills counts as set); each rule over several variables; each
 * variable the service does not read ("unknown variable X"), except {@link RUNTIME_ENV_ALLOWLIST}.
 * Every problem names its variable(s).
 */
export function checkServiceEnv(service: string, env: Record<string, string>): string[] {
  const contract = Object.prototype.hasOwnProperty.call(CONTRACTS, service) ? CONTRACTS[service] : undefined;
  if (!contract) return [`unknown service "${service}": one of ${Object.keys(CONTRACTS).join(', ')}`];
  const problems: string[] = [];
  if (isSet(env.SERVICE) && env.SERVICE !== service) problems.push(`SERVICE is "${env.SERVICE}", not "${service}"`);

  // What a secret fills at start counts as set; a missing one gets a hint naming its secret.
  const effective: Record<string, string | undefined> = { ...env };
  const filledBy = new Map<string, string>();
  for (const secret of SECRET_SOURCES) {
    if (!(secret.variable in contract.spec)) continue;
    for (const key of secret.required) {
      const name = secret.fills[key];
      filledBy.set(name, secret.variable);
      if (isSet(env[secret.variable]) && !isSet(env[name])) effective[name] = fromSecret(key);
    }
  }
  const note = (name: string) => (filledBy.has(name) && !isSet(env[name]) ? `or set ${filledBy.get(name)}, which fills it` : undefined);
  problems.push(...parseConfig(contract.spec, effective, contract.rules, note).problems);

  for (const name of Object.keys(env)) {
    if (!(name in contract.spec) && !allowed(name)) problems.push(`unknown variable ${name}: ${service} does not read it`);
  }
  return problems;
}
