/** The user service's variables; see services/README.md. */
import { env, envRule, kitSpec, type VarSpec } from '../kit/config';
import { secretArn } from '../kit/secrets';
import { mysqlEnv } from '../data/settings';
import { DEFAULT_COST } from './password';

export const userSpec = {
  JWT_ISSUER: env.string({ default: 'platform-user' }),
  JWT_AUDIENCE: env.string({ default: 'platform-api' }),
  JWT_TTL_SECONDS: env.int({ default: 900, min: 60, max: 86_400 }),
  JWT_SIGNING_KEY_SECRET_ARN: secretArn(),
  JWT_PRIVATE_KEY_PEM: env.optional(),
  JWT_PRIVATE_KEY_FILE: env.optional(),
  AWS_REGION: env.optional(),
  SESSION_TTL_SECONDS: env.int({ default: 86_400, min: 60, max: 30 * 86_400 }),
  /** Secure cookies (HTTPS only). On in AWS behind CloudFront; off for plain-HTTP local runs. */
  COOKIE_SECURE: env.bool({ default: false }),
  /** scrypt cost as log2(N). Lower only in tests. */
  PASSWORD_SCRYPT_LOG2N: env.int({ default: DEFAULT_COST.log2N, min: 10, max: 20 }),
  /**
   * The bootstrap admin: at start the account with this email gets the `admin` role (it is created
   * with ADMIN_PASSWORD if missing; an existing account is promoted only if ADMIN_PASSWORD is its
   * password). Both or neither; ADMIN_SECRET_ARN fills both (AWS).
   */
  ADMIN_EMAIL: env.optional({ pattern: /^[^@\s]+@[^@\s]+$/ }),
  ADMIN_PASSWORD: secretText(8, 128),
};

/** An optional secret: its length is checked, its value never quoted in a message. */
function secretText(min: number, max: number): VarSpec<string | undefined> {
  return {
    parse(raw) {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length < min || raw.length > max) throw new Error(`must be ${min} to ${max} characters long (value not shown)`);
      return raw;
    },
  };
}

/** The bootstrap admin's email and password go together. */
export const adminRule = envRule(userSpec, (c) =>
  !c.ADMIN_EMAIL !== !c.ADMIN_PASSWORD ? ['ADMIN_EMAIL and ADMIN_PASSWORD: set both or neither (ADMIN_SECRET_ARN fills both)'] : [],
);

/** Every variable `SERVICE=user` reads: the kit's, MySQL's (connectMysql), its own. */
export const userEnv = { ...kitSpec, ...mysqlEnv, ...userSpec };
export const userRules = [adminRule];
