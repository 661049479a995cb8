/**
 * OpenSearch client factory. Locally plain HTTP without auth. In AWS (a VPC domain with
 * fine-grained access control) one of:
 *  - basic auth as an internal user: OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD, filled at start
 *    from OPENSEARCH_SECRET_ARN (the domain's master user secret, see src/kit/secrets.ts);
 *  - SigV4 with the pod's IAM role: OPENSEARCH_SIGV4_REGION (the signer is loaded only then).
 */
import { Client } from '@opensearch-project/opensearch';
import { ConfigError, env, loadConfig, type Parsed } from '../kit/config';

export type { Client as OpenSearchClient };

export const openSearchEnv = {
  OPENSEARCH_URL: env.url({ default: 'http://127.0.0.1:29200' }),
  OPENSEARCH_SIGV4_REGION: env.optional(),
  OPENSEARCH_USERNAME: env.optional(),
  OPENSEARCH_PASSWORD: env.optional(),
  OPENSEARCH_TIMEOUT_MS: env.int({ default: 5000, min: 100, max: 120_000 }),
};

/** Problems of the auth variables taken together (each one alone parsed fine). */
export function openSearchAuthProblems(c: Partial<Parsed<typeof openSearchEnv>>): string[] {
  const problems: string[] = [];
  if (!c.OPENSEARCH_USERNAME !== !c.OPENSEARCH_PASSWORD) {
    problems.push('OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD: set both or neither (OPENSEARCH_SECRET_ARN fills both)');
  }
  if (c.OPENSEARCH_USERNAME && c.OPENSEARCH_SIGV4_REGION) {
    problems.push('OPENSEARCH_SIGV4_REGION and OPENSEARCH_USERNAME: choose one way to authenticate (SigV4 with the pod role, or the basic-auth user)');
  }
  return problems;
}

export function createOpenSearchClient(source: NodeJS.ProcessEnv = process.env): Client {
  const c = loadConfig(openSearchEnv, source);
  const problems = openSearchAuthProblems(c);
  if (problems.length) throw new ConfigError(problems);
  const common = { node: c.OPENSEARCH_URL, requestTimeout: c.OPENSEARCH_TIMEOUT_MS, maxRetries: 1 };
  if (c.OPENSEARCH_USERNAME && c.OPENSEARCH_PASSWORD) {
    return new Client({ ...common, auth: { username: c.OPENSEARCH_USERNAME, password: c.OPENSEARCH_PASSWORD } });
  }
  const region = c.OPENSEARCH_SIGV4_REGION;
  if (!region) return new Client(common);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AwsSigv4Signer } = require('@opensearch-project/opensearch/aws-v3') as typeof import('@opensearch-project/opensearch/aws-v3');
  return new Client({
    ...AwsSigv4Signer({
      region,
      service: 'es',
      getCredentials: async () => {
        const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
        return defaultProvider()();
      },
    }),
    ...common,
  });
}
