/** The gateway's variables (besides the kit's); see services/README.md. */
import { env, envRule, kitSpec } from '../kit/config';

export const gatewaySpec = {
  /** Registry name: instance key and dynamic config prefix `/registry/config/<name>/`. */
  GATEWAY_NAME: env.string({ default: 'gateway', pattern: /^[a-z0-9-]+$/ }),
  RATE_LIMIT_KEY_PREFIX: env.string({ default: 'rl' }),
  JWT_JWKS_URL: env.optional(),
  JWT_PUBLIC_KEY: env.optional(),
  /** Expected `iss`: by default what the user service issues (its JWT_ISSUER). */
  JWT_ISSUER: env.string({ default: 'platform-user' }),
  /** Accepted `aud` values: by default what the user service issues (its JWT_AUDIENCE). */
  JWT_AUDIENCE: env.list({ default: ['platform-api'] }),
  JWT_ALGORITHMS: env.list({ default: ['RS256', 'ES256', 'EdDSA'] }),
  RATE_LIMIT_ENABLED: env.bool({ default: true }),
  RATE_LIMIT_FAIL_MODE: env.oneOf(['open', 'closed'] as const, { default: 'open' }),
  RATE_LIMIT_TIMEOUT_MS: env.int({ default: 250, min: 10 }),
  /** fastify trustProxy: 'true', a hop count, or CIDRs of the load balancers. */
  TRUST_PROXY: env.string({ default: 'false' }),
  CORS_ORIGINS: env.list({ default: [] }),
  VALIDATE_JSON: env.bool({ default: true }),
  BREAKER_RESET_MS: env.int({ default: 5000, min: 100 }),
  BREAKER_VOLUME_THRESHOLD: env.int({ default: 5, min: 1 }),
  BREAKER_ERROR_PERCENT: env.int({ default: 50, min: 1, max: 100 }),
};

/** The key that verifies access tokens: exactly one of a JWKS URL and a public key. */
export const jwtKeyRule = envRule(gatewaySpec, (c) =>
  !!c.JWT_JWKS_URL === !!c.JWT_PUBLIC_KEY ? ['JWT_JWKS_URL or JWT_PUBLIC_KEY: set exactly one (the key that verifies access tokens)'] : [],
);

/** Every variable `SERVICE=gateway` reads (Redis Cluster for rate limits is the kit's). */
export const gatewayEnv = { ...kitSpec, ...gatewaySpec };
export const gatewayRules = [jwtKeyRule];
