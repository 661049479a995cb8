/**
 * Secrets at start. In Kubernetes a pod gets AWS credentials from EKS Pod Identity and its manifest
 * carries only the ARNs of the secrets, never a secret value. Before any config is loaded, the
 * entry (`src/main.ts`, services and jobs alike) calls {@link loadSecrets}: for each `*_SECRET_ARN`
 * variable that is set, it reads the secret from AWS Secrets Manager and fills the plain variables
 * the code reads (MYSQL_USER, REDIS_PASSWORD, ...). A variable set explicitly wins (local runs).
 * A secret that cannot be read fails the start with one error naming the variable and the ARN;
 * no secret value ever reaches a message or a log line.
 *
 * The SDK is imported only when a secret is read, so local runs never load it.
 */
import { ConfigError, env, type VarSpec } from './config';

/** One kind of secret: the variable with its ARN and the variables its JSON keys fill. */
export interface SecretSource {
  /** Variable that holds the secret's ARN. */
  readonly variable: string;
  /** Who makes the secret (messages, docs). */
  readonly madeBy: string;
  /** JSON key of the secret -> variable it fills when that variable is not set. */
  readonly fills: Readonly<Record<string, string>>;
  /** Keys the secret must have; the variables they fill are therefore always set after a read. */
  readonly required: readonly string[];
}

/** The secrets of the platform (their JSON shapes are those the CDK constructs in lib/ create). */
export const SECRET_SOURCES: readonly SecretSource[] = [
  {
    variable: 'MYSQL_SECRET_ARN',
    madeBy: 'RDS-managed master user secret (lib/constructs/mysql-database.ts): {"username","password"}; "host" and "port" used when present',
    fills: { username: 'MYSQL_USER', password: 'MYSQL_PASSWORD', host: 'MYSQL_HOST', port: 'MYSQL_PORT' },
    required: ['username', 'password'],
  },
  {
    variable: 'REDIS_SECRET_ARN',
    madeBy: 'ElastiCache RBAC user secret (lib/constructs/redis-cluster.ts): {"username","password"}',
    fills: { username: 'REDIS_USERNAME', password: 'REDIS_PASSWORD' },
    required: ['username', 'password'],
  },
  {
    variable: 'SMOKE_SECRET_ARN',
    madeBy: 'the smoke account secret of the workloads stack (lib/stacks/workloads-stack.ts): {"email","password"}',
    fills: { email: 'SMOKE_EMAIL', password: 'SMOKE_PASSWORD' },
    required: ['email', 'password'],
  },
  {
    variable: 'ADMIN_SECRET_ARN',
    madeBy: 'the bootstrap admin account of the user service: {"email","password"} (see services/README.md, Roles)',
    fills: { email: 'ADMIN_EMAIL', password: 'ADMIN_PASSWORD' },
    required: ['email', 'password'],
  },
  {
    variable: 'OPENSEARCH_SECRET_ARN',
    madeBy: 'OpenSearch internal master user secret (lib/constructs/search-domain.ts): {"username","password"}',
    fills: { username: 'OPENSEARCH_USERNAME', password: 'OPENSEARCH_PASSWORD' },
    required: ['username', 'password'],
  },
];

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>` (any partition; RDS-managed names have a `!`). */
export const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:\S+$/;

/** Parser of a variable holding a Secrets Manager ARN (optional). */
export function secretArn(): VarSpec<string | undefined> {
  return env.optional({ pattern: SECRET_ARN_PATTERN });
}

/** The variables the start-up step reads: every `*_SECRET_ARN` and AWS_REGION. */
export const secretsSpec: Readonly<Record<string, VarSpec<string | undefined>>> = {
  ...Object.fromEntries(SECRET_SOURCES.map((s) => [s.variable, secretArn()])),
  /** Region of the Secrets Manager calls; unset: the region in the secret's ARN. */
  AWS_REGION: env.optional(),
};

/**
 * `spec` plus the `*_SECRET_ARN` variables that fill any of its variables (and AWS_REGION with
 * them): the secret variables a service reads follow from what its code parses.
 */
export function withSecrets(spec: Readonly<Record<string, VarSpec<unknown>>>): Record<string, VarSpec<unknown>> {
  const arns = SECRET_SOURCES.filter((s) => Object.values(s.fills).some((name) => name in spec));
  if (arns.length === 0) return spec;
  return { ...spec, ...Object.fromEntries(arns.map((s) => [s.variable, secretsSpec[s.variable]])), AWS_REGION: secretsSpec.AWS_REGION };
}

/** What one secret did, by variable name only (safe to log). */
export interface SecretReport {
  readonly variable: string;
  readonly arn: string;
  /** Variables set from the secret. */
  readonly filled: string[];
  /** Variables the secret has a value for but that were set explicitly (they win). */
  readonly kept: string[];
  /** True when every variable it must fill was already set: not read at all. */
  readonly skipped: boolean;
}

/** Secrets that could not be read or used: one message naming each variable and ARN. */
export class SecretError extends Error {
  constructor(readonly failures: ReadonlyArray<{ variable: string; arn: string; reason: string }>) {
    super(failures.map((f) => `${f.variable}: cannot use secret ${f.arn}: ${f.reason}`).join('; '));
    this.name = 'SecretError';
  }
}

/** A message about a secret that is safe to show (never contains the secret's text). */
class SecretShapeError extends Error {}

/** Reads a secret's text by ARN, in `region` (undefined: the region in the ARN). */
export type SecretReader = (arn: string, region: string | undefined) => Promise<string>;

/**
 * The secret's SecretString from AWS Secrets Manager, in `region` (default: the ARN's). Credentials come from the SDK's default
 * chain (EKS Pod Identity in the cluster); the endpoint can be overridden the SDK's way
 * (AWS_ENDPOINT_URL_SECRETS_MANAGER, e.g. a loopback endpoint in tests).
 */
export const readSecretString: SecretReader = async (arn, region) => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({
    region: region || arnRegion(arn),
    // A start must not hang on an unreachable endpoint: bounded attempts, each bounded in time.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 },
  });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (out.SecretString === undefined) throw new SecretShapeError('it has no SecretString (binary secrets are not supported)');
    return out.SecretString;
  } finally {
    client.destroy();
  }
};

/** The region in a Secrets Manager ARN. */
function arnRegion(arn: string): string | undefined {
  return arn.split(':')[3] || undefined;
}

/**
 * Why a read failed, without the secret: AWS service errors, network and credential errors say
 * what went wrong; any other error (e.g. a response that did not parse) may quote the response,
 * which could be the secret itself, so only its name is kept.
 */
function describeFailure(err: unknown): string {
  if (err instanceof SecretShapeError) return err.message;
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const safe = Boolean(e.$fault || e.code || ['CredentialsProviderError', 'TimeoutError', 'AbortError'].includes(name));
  return `${name}${status ? ` (HTTP ${status})` : ''}${safe && e.message ? `: ${e.message}` : ''}`;
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/** The variables a secret's JSON fills; throws a {@link SecretShapeError} naming what is wrong. */
function valuesOf(source: SecretSource, text: string): Record<string, string> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Never the parser's message: it quotes the text.
    throw new SecretShapeError('its value is not JSON');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new SecretShapeError('its value is not a JSON object');
  const record = data as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [key, variable] of Object.entries(source.fills)) {
    const value = record[key];
    const usable = (typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value));
    if (usable) out[variable] = String(value);
    else if (source.required.includes(key)) throw new SecretShapeError(`it has no "${key}" (a non-empty string)`);
  }
  return out;
}

/**
 * Fills `source` (default process.env) from the secrets whose ARN variables are set. Secrets are
 * read in parallel; any failure throws one {@link SecretError} naming each failed variable and
 * ARN, and then nothing is filled. A bad ARN is a {@link ConfigError}.
 */
export async function loadSecrets(source: NodeJS.ProcessEnv = process.env, read: SecretReader = readSecretString): Promise<SecretReport[]> {
  const problems: string[] = [];
  const wanted: Array<{ secret: SecretSource; arn: string }> = [];
  for (const secret of SECRET_SOURCES) {
    try {
      const arn = secretsSpec[secret.variable].parse(source[secret.variable]);
      if (arn) wanted.push({ secret, arn });
    } catch (err) {
      problems.push(`${secret.variable} ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const region = secretsSpec.AWS_REGION.parse(source.AWS_REGION);
  const results = await Promise.allSettled(
    wanted.map(async ({ secret, arn }) => {
      const mustFill = secret.required.map((key) => secret.fills[key]);
      if (mustFill.every((name) => isSet(source[name]))) return undefined;
      return valuesOf(secret, await read(arn, region));
    }),
  );
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ variable: wanted[i].secret.variable, arn: wanted[i].arn, reason: describeFailure(r.reason) }] : [],
  );
  if (failures.length) throw new SecretError(failures);

  return wanted.map(({ secret, arn }, i) => {
    const values = (results[i] as PromiseFulfilledResult<Record<string, string> | undefined>).value;
    const report: SecretReport = { variable: secret.variable, arn, filled: [], kept: [], skipped: values === undefined };
    for (const [name, value] of Object.entries(values ?? {})) {
      if (isSet(source[name])) {
        report.kept.push(name);
      } else {
        source[name] = value;
        report.filled.push(name);
      }
    }
    return report;
  });
}
