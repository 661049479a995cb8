import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { entries } from '../src/entries';
import { RUNTIME_ENV_ALLOWLIST, SERVICE_ENV, checkServiceEnv } from '../src/specs';

const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

/** What a deployment sets: plain values and secret ARNs only (like the manifests of k8s/). */
const COMPLETE: Record<string, Record<string, string>> = {
  gateway: {
    SERVICE: 'gateway', LOG_LEVEL: 'info', AWS_REGION: 'eu-west-1', PORT: '8080', POD_IP: '10.0.1.7',
    ETCD_ENDPOINTS: 'http://etcd-0.etcd.platform.svc:2379', REDIS_CLUSTER_NODES: 'redis.internal:6379', REDIS_TLS: 'true',
    REDIS_SECRET_ARN: arn('redis'), JWT_JWKS_URL: 'http://user.platform.svc:8080/.well-known/jwks.json', JWT_ISSUER: 'platform-user',
    JWT_AUDIENCE: 'platform-api', TRUST_PROXY: '2', CORS_ORIGINS: 'https://shop.example.com',
  },
  user: {
    SERVICE: 'user', AWS_REGION: 'eu-west-1', POD_IP: '10.0.1.8', REDIS_TLS: 'true', REDIS_SECRET_ARN: arn('redis'),
    MYSQL_HOST: 'db.internal', MYSQL_TLS: 'true', MYSQL_SECRET_ARN: arn('rds!db'), JWT_SIGNING_KEY_SECRET_ARN: arn('jwt'), COOKIE_SECURE: 'true',
  },
  catalog: {
    SERVICE: 'catalog', AWS_REGION: 'eu-west-1', REDIS_SECRET_ARN: arn('redis'), MYSQL_SECRET_ARN: arn('rds!db'),
    OPENSEARCH_URL: 'https://search.internal', OPENSEARCH_SECRET_ARN: arn('search'), S3_BUCKET: 'uploads', S3_REGION: 'eu-west-1',
  },
  order: { SERVICE: 'order', AWS_REGION: 'eu-west-1', REDIS_SECRET_ARN: arn('redis'), MYSQL_SECRET_ARN: arn('rds!db'), CATALOG_SERVICE: 'catalog' },
  'order-timeout': {
    SERVICE: 'order-timeout', REGISTRY_ENABLED: 'false', REDIS_SECRET_ARN: arn('redis'), MYSQL_SECRET_ARN: arn('rds!db'),
    ORDER_TIMEOUT_MINUTES: '30', JOB_COMPLETIONS: '3', JOB_COMPLETION_INDEX: '2',
  },
  'search-sync': {
    SERVICE: 'search-sync', REGISTRY_ENABLED: 'false', REDIS_SECRET_ARN: arn('redis'), MYSQL_SECRET_ARN: arn('rds!db'),
    OPENSEARCH_URL: 'https://search.internal', OPENSEARCH_SECRET_ARN: arn('search'), SEARCH_SYNC_MODE: 'follow', POD_NAME: 'search-sync-0',
  },
};

test('the smoke journey and the load generator: the gateway URL and the smoke account (from its secret)', () => {
  const names = (service: string) => Object.keys(SERVICE_ENV[service]);
  expect(names('smoke')).toEqual(expect.arrayContaining(['SMOKE_BASE_URL', 'SMOKE_EMAIL', 'SMOKE_PASSWORD', 'SMOKE_SECRET_ARN', 'SMOKE_CHECKOUT']));
  expect(names('loadgen')).toEqual(expect.arrayContaining([...names('smoke'), 'LOADGEN_RATE', 'LOADGEN_CONCURRENCY', 'PORT']));
  expect(checkServiceEnv('smoke', { SERVICE: 'smoke', SMOKE_BASE_URL: 'http://gateway.platform.svc:8080', SMOKE_SECRET_ARN: arn('smoke') })).toEqual([]);
  expect(checkServiceEnv('smoke', { SERVICE: 'smoke', SMOKE_BASE_URL: 'http://gateway.platform.svc:8080' }).join('\n')).toMatch(/SMOKE_EMAIL is required/);
});

test('SERVICE_ENV covers the production entries of src/entries.ts, each with every variable its code parses', () => {
  expect(Object.keys(SERVICE_ENV).sort()).toEqual(Object.keys(entries).filter((n) => n !== 'echo').sort());
  const names = (service: string) => Object.keys(SERVICE_ENV[service]);
  // Kit, secrets and region in every one that runs on the kit; each store's variables where the code connects to it.
  for (const service of Object.keys(SERVICE_ENV).filter((s) => s !== 'smoke' && s !== 'loadgen')) {
    expect(names(service)).toEqual(expect.arrayContaining(['PORT', 'LOG_LEVEL', 'POD_IP', 'ADVERTISE_HOST', 'REDIS_CLUSTER_NODES', 'REDIS_SECRET_ARN', 'AWS_REGION']));
  }
  expect(names('gateway')).toEqual(expect.arrayContaining(['JWT_JWKS_URL', 'RATE_LIMIT_FAIL_MODE']));
  expect(names('gateway')).not.toEqual(expect.arrayContaining(['MYSQL_HOST']));
  expect(names('gateway')).not.toContain('MYSQL_SECRET_ARN');
  expect(names('user')).toEqual(expect.arrayContaining(['MYSQL_USER', 'MYSQL_SECRET_ARN', 'JWT_SIGNING_KEY_SECRET_ARN', 'PASSWORD_SCRYPT_LOG2N']));
  expect(names('user')).not.toContain('OPENSEARCH_SECRET_ARN');
  expect(names('catalog')).toEqual(expect.arrayContaining(['OPENSEARCH_USERNAME', 'OPENSEARCH_SECRET_ARN', 'SEARCH_INDEX_ALIAS', 'S3_BUCKET', 'CATALOG_CACHE_TTL_SECONDS']));
  expect(names('order')).toEqual(expect.arrayContaining(['CHECKOUT_LOCK_WAIT_MS', 'MYSQL_SECRET_ARN']));
  expect(names('order-timeout')).toEqual(expect.arrayContaining(['JOB_COMPLETION_INDEX', 'JOB_COMPLETIONS', 'ORDER_TIMEOUT_MINUTES', 'POD_NAME']));
  expect(names('search-sync')).toEqual(expect.arrayContaining(['SEARCH_SYNC_MODE', 'SEARCH_SYNC_MIN_IDLE_MS', 'SEARCH_INDEX_ALIAS', 'OPENSEARCH_SECRET_ARN', 'POD_NAME']));
  expect(names('search-sync')).not.toContain('S3_BUCKET');
  // The parsers are the code's own.
  expect(SERVICE_ENV['order-timeout'].JOB_COMPLETIONS.parse('4')).toBe(4);
  expect(SERVICE_ENV.gateway.TRUST_PROXY.parse(undefined)).toBe('false');
});

test('a complete environment passes, for every service', () => {
  for (const [service, env] of Object.entries(COMPLETE)) expect([service, checkServiceEnv(service, env)]).toEqual([service, []]);
  // Runtime variables are allowed; values a secret fills may also be set explicitly.
  expect(checkServiceEnv('order', { ...COMPLETE.order, NODE_ENV: 'production', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials', KUBERNETES_SERVICE_HOST: '10.100.0.1' })).toEqual([]);
  expect(checkServiceEnv('order', { MYSQL_USER: 'app', MYSQL_PASSWORD: 'local' })).toEqual([]);
  expect(RUNTIME_ENV_ALLOWLIST).toEqual(expect.arrayContaining(['SERVICE', 'NODE_ENV', 'NODE_OPTIONS', 'AWS_*', 'KUBERNETES_*']));
});

test('a missing required variable gives a problem naming it', () => {
  const { JWT_JWKS_URL: _, ...gateway } = COMPLETE.gateway;
  expect(checkServiceEnv('gateway', gateway)).toEqual(['JWT_JWKS_URL or JWT_PUBLIC_KEY: set exactly one (the key that verifies access tokens)']);
  expect(checkServiceEnv('gateway', { ...gateway, JWT_JWKS_URL: 'http://a', JWT_PUBLIC_KEY: '{}' })).toEqual([
    'JWT_JWKS_URL or JWT_PUBLIC_KEY: set exactly one (the key that verifies access tokens)',
  ]);
});

test('a secret fills its variables; a half-configured user is named, with the secret that would fill it', () => {
  expect(checkServiceEnv('catalog', { ...COMPLETE.catalog, OPENSEARCH_PASSWORD: 'explicit' })).toEqual([]);
  const { OPENSEARCH_SECRET_ARN: _, ...noSecret } = COMPLETE.catalog;
  expect(checkServiceEnv('catalog', { ...noSecret, OPENSEARCH_USERNAME: 'admin' })).toEqual([
    'OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD: set both or neither (OPENSEARCH_SECRET_ARN fills both)',
  ]);
  expect(checkServiceEnv('search-sync', { ...COMPLETE['search-sync'], OPENSEARCH_SIGV4_REGION: 'eu-west-1' })).toEqual([
    'OPENSEARCH_SIGV4_REGION and OPENSEARCH_USERNAME: choose one way to authenticate (SigV4 with the pod role, or the basic-auth user)',
  ]);
});

test('a bad value gives a problem naming the variable', () => {
  expect(checkServiceEnv('order', { ...COMPLETE.order, CHECKOUT_LOCK_WAIT_MS: 'soon' })).toEqual([
    'CHECKOUT_LOCK_WAIT_MS must be an integer between 10 and 60000 (got "soon")',
  ]);
  expect(checkServiceEnv('search-sync', { ...COMPLETE['search-sync'], SEARCH_SYNC_MODE: 'once', MYSQL_SECRET_ARN: 'rds-secret' })).toEqual([
    'SEARCH_SYNC_MODE must be one of full, drain, follow (got "once")',
    expect.stringMatching(/^MYSQL_SECRET_ARN must match .* \(got "rds-secret"\)$/),
  ]);
  expect(checkServiceEnv('order-timeout', { ...COMPLETE['order-timeout'], JOB_COMPLETION_INDEX: '3' })).toEqual([
    'JOB_COMPLETION_INDEX must be an integer in [0, 2] (got "3")',
  ]);
  expect(checkServiceEnv('order-timeout', { ORDER_TIMEOUT_MINUTES: '0' })).toEqual(['ORDER_TIMEOUT_MINUTES must be a number above 0 (got "0")']);
  expect(checkServiceEnv('gateway', { ...COMPLETE.gateway, SERVICE: 'user' })).toEqual(['SERVICE is "user", not "gateway"']);
});

test('an unknown variable, and an unknown service, give a problem naming them', () => {
  expect(checkServiceEnv('order', { ...COMPLETE.order, CHECKOUT_LOCK_WAIT: '100' })).toEqual(['unknown variable CHECKOUT_LOCK_WAIT: order does not read it']);
  // A secret the service has no use for is unknown too: the gateway reads no MySQL variable.
  expect(checkServiceEnv('gateway', { ...COMPLETE.gateway, MYSQL_SECRET_ARN: arn('rds!db'), OPENSEARCH_URL: 'https://x' })).toEqual([
    'unknown variable MYSQL_SECRET_ARN: gateway does not read it',
    'unknown variable OPENSEARCH_URL: gateway does not read it',
  ]);
  expect(checkServiceEnv('echo', {})).toEqual(['unknown service "echo": one of gateway, user, catalog, order, order-timeout, search-sync, smoke, loadgen']);
  expect(checkServiceEnv('toString', {})).toEqual([expect.stringContaining('unknown service "toString"')]);
});

test('importing src/specs.ts reads no variable, opens nothing and loads no client or framework', () => {
  const script = `
    require('./test/support/ts-register.js');
    require('typescript');
    const before = new Set(Object.keys(require.cache));
    const reads = [];
    const real = process.env;
    process.env = new Proxy(real, { get: (t, k) => (reads.push(String(k)), t[k]) });
    require('./src/specs.ts');
    process.env = real;
    const loaded = Object.keys(require.cache).filter((f) => !before.has(f));
    const handles = process.getActiveResourcesInfo().filter((h) => h !== 'PipeWrap' && h !== 'TTYWrap');
    process.stdout.write(JSON.stringify({ reads, handles, modules: loaded.filter((f) => f.includes('node_modules')) }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: resolve(__dirname, '..'), env: { PATH: process.env.PATH ?? '' } }).toString());
  expect(out).toEqual({ reads: [], handles: [], modules: [] });
});
