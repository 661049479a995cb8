/**
 * OpenSearch client factory: plain HTTP locally, SigV4-signed in AWS (a VPC domain with
 * fine-grained access control maps the pod's IAM role). The signer is loaded only when used.
 */
import { Client } from '@opensearch-project/opensearch';
import { env, loadConfig } from '../kit/config';

export type { Client as OpenSearchClient };

export const openSearchEnv = {
  OPENSEARCH_URL: env.url({ default: 'http://127.0.0.1:29200' }),
  OPENSEARCH_SIGV4_REGION: env.optional(),
  OPENSEARCH_TIMEOUT_MS: env.int({ default: 5000, min: 100, max: 120_000 }),
};

export function createOpenSearchClient(source: NodeJS.ProcessEnv = process.env): Client {
  const c = loadConfig(openSearchEnv, source);
  const region = c.OPENSEARCH_SIGV4_REGION;
  if (!region) {
    return new Client({ node: c.OPENSEARCH_URL, requestTimeout: c.OPENSEARCH_TIMEOUT_MS, maxRetries: 1 });
  }
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
    node: c.OPENSEARCH_URL,
    requestTimeout: c.OPENSEARCH_TIMEOUT_MS,
    maxRetries: 1,
  });
}
