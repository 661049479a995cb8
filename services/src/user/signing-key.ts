/**
 * The user service's JWT signing key (ES256) and the JWKS the gateway verifies with.
 *
 * Where the key comes from, first match wins:
 *  - JWT_SIGNING_KEY_SECRET_ARN: a PKCS#8 PEM in Secrets Manager (AWS; read by the kit's
 *    readSecretString, which imports the SDK lazily so local runs never load it). A secret that
 *    holds no PEM yet (the placeholder CDK creates) is filled on first start: one instance's
 *    generated key wins (an idempotency token makes concurrent writes of different keys fail),
 *    every instance then reads that one;
 *  - JWT_PRIVATE_KEY_PEM: the PEM itself;
 *  - JWT_PRIVATE_KEY_FILE (default <tmp>/platform-jwt/es256.pem): generated on first use and
 *    shared by every local instance on the machine, so a token from one verifies on all.
 */
import { createPublicKey, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import { readSecretString } from '../kit/secrets';

export const JWT_ALG = 'ES256';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface SigningKeySource {
  secretArn?: string;
  pem?: string;
  file?: string;
  region?: string;
}

async function pemFromFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': if another instance wrote it first, use theirs so all instances share one key.
    await writeFile(file, pem, { flag: 'wx', mode: 0o600 });
    return pem;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await new Promise((r) => setTimeout(r, 50));
    return readFile(file, 'utf8');
  }
}

/** The one write that fills an empty key secret; a second, different key with it is refused. */
export const BOOTSTRAP_REQUEST_TOKEN = 'platform-jwt-signing-key-bootstrap-v1';

const isPem = (text: string) => text.trimStart().startsWith('-----BEGIN');

/** The key from the secret, generating and storing it first if the secret holds no PEM yet. */
async function pemFromSecret(arn: string, region: string | undefined, write: SecretWriter): Promise<string> {
  const current = await readSecretString(arn, region);
  if (isPem(current)) return current;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await write(arn, region, pem);
    return pem;
  } catch {
    // Another instance stored its key first (or the write was refused): use what is there.
    for (let attempt = 0; attempt < 10; attempt++) {
      const text = await readSecretString(arn, region);
      if (isPem(text)) return text;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`JWT_SIGNING_KEY_SECRET_ARN: the secret ${arn} holds no PEM and this instance could not store one (secretsmanager:PutSecretValue allowed?)`);
  }
}

/** Stores a secret's new value with the bootstrap idempotency token. */
export type SecretWriter = (arn: string, region: string | undefined, value: string) => Promise<void>;

const putSecretValue: SecretWriter = async (arn, region, value) => {
  const { SecretsManagerClient, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ region: region || arn.split(':')[3], maxAttempts: 3, requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 } });
  try {
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value, ClientRequestToken: BOOTSTRAP_REQUEST_TOKEN }));
  } finally {
    client.destroy();
  }
};

export async function loadSigningKey(src: SigningKeySource, write: SecretWriter = putSecretValue): Promise<SigningKey> {
  const pem = src.secretArn
    ? await pemFromSecret(src.secretArn, src.region, write)
    : (src.pem ?? (await pemFromFile(src.file ?? join(tmpdir(), 'platform-jwt', 'es256.pem'))));
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('JWT signing key must be an EC P-256 private key (ES256)');
  }
  const publicJwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: JWT_ALG, use: 'sig' } };
}

export function jwks(key: SigningKey): { keys: JWK[] } {
  return { keys: [key.publicJwk] };
}

export interface TokenClaims {
  sub: string;
  email: string;
  sid?: string;
  /** The user's roles (src/user/users-store.ts); always in the token, empty for none. */
  roles?: readonly string[];
}

export async function issueToken(
  key: SigningKey,
  claims: TokenClaims,
  opts: { issuer: string; audience: string; ttlSeconds: number },
): Promise<string> {
  return new SignJWT({ email: claims.email, roles: [...(claims.roles ?? [])], ...(claims.sid ? { sid: claims.sid } : {}) })
    .setProtectedHeader({ alg: JWT_ALG, kid: key.kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttlSeconds}s`)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}
