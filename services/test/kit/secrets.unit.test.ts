import { ConfigError, SecretError, loadSecrets, withSecrets, kitSpec } from '../../src/kit';
import { mysqlSettingsFromEnv } from '../../src/data/mysql';
import { startSecretsManager, type LoopbackSecretsManager } from '../support/secrets-manager';

const ARN = {
  mysql: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf',
  redis: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RedisUserSecret-GhIjKl',
  search: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SearchMasterUser-MnOpQr',
  missing: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone-StUvWx',
  denied: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:not-mine-YzAbCd',
  notJson: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:plain-EfGhIj',
  noPassword: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:half-KlMnOp',
};
const PASSWORDS = { mysql: 'mysql-pass-Secret-1', redis: 'redis-pass-Secret-2', search: 'search-pass-Secret-3', plain: 'plain-text-Secret-4' };

let sm: LoopbackSecretsManager;
beforeAll(async () => {
  sm = await startSecretsManager({
    // The shapes the CDK constructs create (RDS-managed master secret, RBAC user, OpenSearch master user).
    [ARN.mysql]: JSON.stringify({ username: 'admin', password: PASSWORDS.mysql, host: 'db.internal', port: 3306 }),
    [ARN.redis]: JSON.stringify({ username: 'app', password: PASSWORDS.redis }),
    [ARN.search]: JSON.stringify({ username: 'admin', password: PASSWORDS.search }),
    [ARN.denied]: { status: 400, type: 'AccessDeniedException', message: 'User: arn:aws:sts::123456789012:assumed-role/catalog/eks-pod is not authorized to perform: secretsmanager:GetSecretValue' },
    [ARN.notJson]: PASSWORDS.plain,
    [ARN.noPassword]: JSON.stringify({ username: 'app', pass: PASSWORDS.redis }),
  });
  sm.apply();
});
afterAll(() => sm.close());
beforeEach(() => sm.requests.splice(0));

const base = { AWS_REGION: 'eu-west-1' };

test('each *_SECRET_ARN fills the variables its JSON keys map to, before any config is loaded', async () => {
  const source: NodeJS.ProcessEnv = { ...base, MYSQL_SECRET_ARN: ARN.mysql, REDIS_SECRET_ARN: ARN.redis, OPENSEARCH_SECRET_ARN: ARN.search };
  const reports = await loadSecrets(source);
  expect(source).toMatchObject({
    MYSQL_USER: 'admin', MYSQL_PASSWORD: PASSWORDS.mysql, MYSQL_HOST: 'db.internal', MYSQL_PORT: '3306',
    REDIS_USERNAME: 'app', REDIS_PASSWORD: PASSWORDS.redis,
    OPENSEARCH_USERNAME: 'admin', OPENSEARCH_PASSWORD: PASSWORDS.search,
  });
  expect(sm.requests.map((r) => r.body.SecretId).sort()).toEqual([ARN.mysql, ARN.redis, ARN.search].sort());
  expect(sm.requests.every((r) => r.target === 'secretsmanager.GetSecretValue')).toBe(true);
  // What the service then parses comes from the secret.
  expect(mysqlSettingsFromEnv(source)).toMatchObject({ user: 'admin', password: PASSWORDS.mysql, host: 'db.internal', port: 3306 });
  // The report names variables, never values.
  expect(reports).toEqual([
    { variable: 'MYSQL_SECRET_ARN', arn: ARN.mysql, filled: ['MYSQL_USER', 'MYSQL_PASSWORD', 'MYSQL_HOST', 'MYSQL_PORT'], kept: [], skipped: false },
    { variable: 'REDIS_SECRET_ARN', arn: ARN.redis, filled: ['REDIS_USERNAME', 'REDIS_PASSWORD'], kept: [], skipped: false },
    { variable: 'OPENSEARCH_SECRET_ARN', arn: ARN.search, filled: ['OPENSEARCH_USERNAME', 'OPENSEARCH_PASSWORD'], kept: [], skipped: false },
  ]);
  expect(JSON.stringify(reports)).not.toMatch(/Secret-\d/);
});

test('a variable set explicitly wins; a secret whose variables are all set is not read', async () => {
  const source: NodeJS.ProcessEnv = { ...base, MYSQL_SECRET_ARN: ARN.mysql, MYSQL_HOST: '127.0.0.1', MYSQL_PASSWORD: 'local' };
  const [report] = await loadSecrets(source);
  expect(source).toMatchObject({ MYSQL_USER: 'admin', MYSQL_PASSWORD: 'local', MYSQL_HOST: '127.0.0.1', MYSQL_PORT: '3306' });
  expect(report).toMatchObject({ filled: ['MYSQL_USER', 'MYSQL_PORT'], kept: ['MYSQL_PASSWORD', 'MYSQL_HOST'] });

  const local: NodeJS.ProcessEnv = { ...base, REDIS_SECRET_ARN: ARN.missing, REDIS_USERNAME: 'me', REDIS_PASSWORD: 'pw' };
  expect(await loadSecrets(local)).toEqual([{ variable: 'REDIS_SECRET_ARN', arn: ARN.missing, filled: [], kept: [], skipped: true }]);
  expect(sm.requests).toHaveLength(1);
  expect(local.REDIS_PASSWORD).toBe('pw');
  // Nothing set: nothing read, nothing filled.
  const none: NodeJS.ProcessEnv = {};
  expect(await loadSecrets(none)).toEqual([]);
  expect(none).toEqual({});
});

test('the region is AWS_REGION, else the one in the ARN', async () => {
  const regions: Array<string | undefined> = [];
  const read = async (_arn: string, region: string | undefined) => {
    regions.push(region);
    return JSON.stringify({ username: 'u', password: 'p' });
  };
  await loadSecrets({ AWS_REGION: 'us-east-2', REDIS_SECRET_ARN: ARN.redis }, read);
  await loadSecrets({ REDIS_SECRET_ARN: ARN.redis }, read);
  expect(regions).toEqual(['us-east-2', undefined]);
  // Without AWS_REGION the real reader calls the ARN's region (the loopback endpoint answers any).
  const source: NodeJS.ProcessEnv = { REDIS_SECRET_ARN: ARN.redis };
  await loadSecrets(source);
  expect(source.REDIS_USERNAME).toBe('app');
});

test('a secret that cannot be read or used fails with one error naming each variable and ARN, and no value', async () => {
  const source: NodeJS.ProcessEnv = {
    ...base,
    MYSQL_SECRET_ARN: ARN.mysql,
    REDIS_SECRET_ARN: ARN.denied,
    OPENSEARCH_SECRET_ARN: ARN.missing,
  };
  const err = (await loadSecrets(source).catch((e: unknown) => e)) as SecretError;
  expect(err).toBeInstanceOf(SecretError);
  expect(err.failures).toEqual([
    { variable: 'REDIS_SECRET_ARN', arn: ARN.denied, reason: expect.stringMatching(/^AccessDeniedException \(HTTP 400\): User: .* is not authorized/) },
    { variable: 'OPENSEARCH_SECRET_ARN', arn: ARN.missing, reason: expect.stringMatching(/^ResourceNotFoundException \(HTTP 400\): Secrets Manager can't find/) },
  ]);
  expect(err.message).toContain(`REDIS_SECRET_ARN: cannot use secret ${ARN.denied}: AccessDeniedException`);
  expect(err.message).toContain(`OPENSEARCH_SECRET_ARN: cannot use secret ${ARN.missing}: ResourceNotFoundException`);
  // All or nothing: the readable MySQL secret filled nothing either.
  expect(source.MYSQL_PASSWORD).toBeUndefined();
  expect(JSON.stringify({ message: err.message, failures: err.failures })).not.toMatch(/Secret-\d/);
});

test('a secret of the wrong shape is refused without quoting it', async () => {
  for (const [arn, reason] of [
    [ARN.notJson, 'its value is not JSON'],
    [ARN.noPassword, 'it has no "password" (a non-empty string)'],
  ]) {
    const err = (await loadSecrets({ ...base, REDIS_SECRET_ARN: arn }).catch((e: unknown) => e)) as SecretError;
    expect(err.message).toBe(`REDIS_SECRET_ARN: cannot use secret ${arn}: ${reason}`);
    expect(err.message).not.toMatch(/Secret-\d/);
  }
});

test('a malformed ARN is a config error naming the variable', async () => {
  await expect(loadSecrets({ MYSQL_SECRET_ARN: 'my-db-secret' })).rejects.toThrow(ConfigError);
  await expect(loadSecrets({ MYSQL_SECRET_ARN: 'my-db-secret' })).rejects.toThrow('MYSQL_SECRET_ARN must match');
  expect(sm.requests).toHaveLength(0);
});

test('withSecrets adds the ARN variables that fill what a spec reads, and AWS_REGION with them', () => {
  const spec = withSecrets({ ...kitSpec, OPENSEARCH_URL: kitSpec.HOST });
  expect(Object.keys(spec)).toEqual(expect.arrayContaining(['REDIS_SECRET_ARN', 'AWS_REGION']));
  expect(Object.keys(spec)).not.toContain('MYSQL_SECRET_ARN');
  expect(Object.keys(withSecrets({ MYSQL_PASSWORD: kitSpec.HOST }))).toEqual(['MYSQL_PASSWORD', 'MYSQL_SECRET_ARN', 'AWS_REGION']);
  expect(Object.keys(withSecrets({ PORT: kitSpec.PORT }))).toEqual(['PORT']);
});
