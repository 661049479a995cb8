/**
 * OpenSearch client factory. Locally plain HTTP without auth. In AWS (a VPC domain with
 * fine-grained access control) one of:
 *  - basic auth as an internal user: OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD, filled at start
 *    from OPENSEARCH_SECRET_ARN (the domain's master user secret, see src/kit/secrets.ts);
 *  - SigV4 with the pod's IAM role: OPENSEARCH_SIGV4_REGION (the signer is loaded only then).
 */
import { Client } from '@opensearch-project/opensearch';
import { loadConfig } from '../kit/config';
import { traceOpenSearch } from '../kit/store-tracing';
import { tracing } from '../kit/tracing';
import { openSearchAuthRule, openSearchEnv } from './settings';

export { openSearchEnv };

export type { Client as OpenSearchClient };

export function createOpenSearchClient(source: NodeJS.ProcessEnv = process.env): Client {
  const client = openSearchClient(source);
  const tr = tracing();
  if (tr.enabled) traceOpenSearch(client as unknown as Parameters<typeof traceOpenSearch>[0], tr);
  return client;
}

function openSearchClient(source: NodeJS.ProcessEnv): Client {
  const c = loadConfig(openSearchEnv, source, [openSearchAuthRule]);
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
