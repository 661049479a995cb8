/**
 * The variables of the data stores, apart from their clients so that reading the specs loads no
 * driver (src/specs.ts): MySQL (src/data/mysql.ts), OpenSearch (opensearch.ts), the search index
 * alias (dependencies.ts, the search-sync job), S3 uploads (uploads.ts). Redis Cluster's are the
 * kit's (kitSpec in src/kit/config.ts). USERNAME/PASSWORD variables can be filled at start from a
 * `*_SECRET_ARN` (src/kit/secrets.ts).
 */
import { env, envRule } from '../kit/config';

export const mysqlEnv = {
  MYSQL_HOST: env.string({ default: '127.0.0.1' }),
  MYSQL_PORT: env.int({ default: 23306, min: 1, max: 65535 }),
  MYSQL_USER: env.string({ default: 'platform' }),
  MYSQL_PASSWORD: env.string({ default: 'platform' }),
  MYSQL_DATABASE: env.string({ default: 'platform', pattern: /^[A-Za-z0-9_]{1,64}$/ }),
  MYSQL_POOL_SIZE: env.int({ default: 10, min: 1, max: 200 }),
  MYSQL_TLS: env.bool({ default: false }),
};

export const openSearchEnv = {
  OPENSEARCH_URL: env.url({ default: 'http://127.0.0.1:29200' }),
  OPENSEARCH_SIGV4_REGION: env.optional(),
  OPENSEARCH_USERNAME: env.optional(),
  OPENSEARCH_PASSWORD: env.optional(),
  OPENSEARCH_TIMEOUT_MS: env.int({ default: 5000, min: 100, max: 120_000 }),
};

/** The auth variables taken together (each one alone parsed fine). */
export const openSearchAuthRule = envRule(openSearchEnv, (c) => {
  const problems: string[] = [];
  if (!c.OPENSEARCH_USERNAME !== !c.OPENSEARCH_PASSWORD) {
    problems.push('OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD: set both or neither (OPENSEARCH_SECRET_ARN fills both)');
  }
  if (c.OPENSEARCH_USERNAME && c.OPENSEARCH_SIGV4_REGION) {
    problems.push('OPENSEARCH_SIGV4_REGION and OPENSEARCH_USERNAME: choose one way to authenticate (SigV4 with the pod role, or the basic-auth user)');
  }
  return problems;
});

/** The product search alias, searched and written by the catalog and the search-sync job. */
export const searchIndexEnv = {
  SEARCH_INDEX_ALIAS: env.string({ default: 'products' }),
};

export const s3Env = {
  S3_BUCKET: env.string({ default: 'platform-uploads' }),
  S3_REGION: env.string({ default: 'us-east-1' }),
  /** Set locally (S3-compatible server); unset in AWS. */
  S3_ENDPOINT: env.optional(),
  S3_FORCE_PATH_STYLE: env.bool({ default: false }),
  /** Static keys for the local server; unset in AWS, where the pod role's credentials are used. */
  S3_ACCESS_KEY_ID: env.optional(),
  S3_SECRET_ACCESS_KEY: env.optional(),
  UPLOAD_URL_TTL_SECONDS: env.int({ default: 300, min: 30, max: 3600 }),
};
