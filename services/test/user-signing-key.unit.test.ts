import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { BOOTSTRAP_REQUEST_TOKEN, issueToken, jwks, loadSigningKey } from '../src/user/signing-key';
import { startSecretsManager } from './support/secrets-manager';

const dir = mkdtempSync(join(tmpdir(), 'jwt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { issuer: 'platform-user', audience: 'platform-api', ttlSeconds: 60 };

test('instances sharing a key file sign tokens any of them can verify through the JWKS', async () => {
  const file = join(dir, 'es256.pem');
  const [a, b] = await Promise.all([loadSigningKey({ file }), loadSigningKey({ file })]);
  expect(a.kid).toBe(b.kid);
  const token = await issueToken(a, { sub: '42', email: 'a@example.com', sid: 's1' }, opts);
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks(b)), opts);
  expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: a.kid });
  expect(payload).toMatchObject({ sub: '42', email: 'a@example.com', sid: 's1', iss: 'platform-user', aud: 'platform-api' });
  expect(jwks(b).keys[0]).not.toHaveProperty('d');
});

test('a PEM from the environment is used as is; a non-P-256 key is refused', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = await loadSigningKey({ pem });
  expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await expect(loadSigningKey({ pem: rsa })).rejects.toThrow(/P-256/);
});

test('in AWS the key comes from Secrets Manager by ARN (SDK loaded only then)', async () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/jwt-AbCdEf';
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sm = await startSecretsManager({ [arn]: pem });
  sm.apply();
  try {
    const key = await loadSigningKey({ secretArn: arn, region: 'eu-west-1' });
    expect(sm.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: arn } }]);
    expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
  } finally {
    await sm.close();
  }
});

test('an empty key secret (the placeholder CDK creates) is filled once: concurrent instances all end on one key', async () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/jwt-new-AbCdEf';
  const sm = await startSecretsManager({ [arn]: 'GeneratedPlaceholder0123456789abcdef' });
  sm.apply();
  try {
    // Five instances start at once on a fresh environment.
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadSigningKey({ secretArn: arn, region: 'eu-west-1' })));
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    const puts = sm.requests.filter((r) => r.target === 'secretsmanager.PutSecretValue');
    expect(puts.length).toBeGreaterThanOrEqual(1);
    expect(puts.every((p) => p.body.ClientRequestToken === BOOTSTRAP_REQUEST_TOKEN)).toBe(true);
    // A later start reads the stored key and writes nothing.
    const before = sm.requests.length;
    expect((await loadSigningKey({ secretArn: arn, region: 'eu-west-1' })).kid).toBe(keys[0].kid);
    expect(sm.requests.slice(before).map((r) => r.target)).toEqual(['secretsmanager.GetSecretValue']);
  } finally {
    await sm.close();
  }
});

test('a key secret that cannot be filled fails the start with the variable and the permission named', async () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:platform/jwt-ro-AbCdEf';
  const sm = await startSecretsManager({ [arn]: 'placeholder' });
  sm.apply();
  try {
    const refused = async () => { throw new Error('AccessDeniedException'); };
    await expect(loadSigningKey({ secretArn: arn, region: 'eu-west-1' }, refused)).rejects.toThrow(/JWT_SIGNING_KEY_SECRET_ARN: .*PutSecretValue/);
  } finally {
    await sm.close();
  }
}, 15_000);
