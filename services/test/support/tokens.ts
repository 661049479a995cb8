/**
 * Tokens for tests that call a service directly (no gateway, often no user service): signed with
 * the shared test key (serviceEnv's JWT_PRIVATE_KEY_FILE), which the service is told to trust
 * with JWT_PUBLIC_KEY, the way a real token from the user service would verify.
 */
import { issueToken, loadSigningKey } from '../../src/user/signing-key';

export interface TestTokens {
  /** Environment to add to the service's: its JWT_PUBLIC_KEY. */
  readonly env: { JWT_PUBLIC_KEY: string };
  /** A token for `userId` with `roles`. */
  token(userId: number | string, roles?: string[]): Promise<string>;
  /** `{ authorization: 'Bearer …' }` for `userId` with `roles`. */
  as(userId: number | string, roles?: string[]): Promise<Record<string, string>>;
}

export async function testTokens(env: NodeJS.ProcessEnv): Promise<TestTokens> {
  const key = await loadSigningKey({ file: env.JWT_PRIVATE_KEY_FILE });
  const token = (userId: number | string, roles: string[] = []) =>
    issueToken(key, { sub: String(userId), email: `${userId}@example.test`, roles }, { issuer: 'platform-user', audience: 'platform-api', ttlSeconds: 900 });
  return {
    env: { JWT_PUBLIC_KEY: JSON.stringify(key.publicJwk) },
    token,
    as: async (userId, roles) => ({ authorization: `Bearer ${await token(userId, roles)}` }),
  };
}
