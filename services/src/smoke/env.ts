import { env } from '../kit/config';

/** Variables of the smoke journey (SERVICE=smoke) and the load generator (SERVICE=loadgen). */
export const smokeEnv = {
  /** The gateway's URL: the in-cluster Service, or the public https URL. */
  SMOKE_BASE_URL: env.url(),
  /** The dedicated smoke account; in AWS both come from SMOKE_SECRET_ARN. */
  SMOKE_EMAIL: env.string(),
  SMOKE_PASSWORD: env.string({ pattern: /^.{8,128}$/ }),
  /** Check out one item: takes real stock, so never in prod. */
  SMOKE_CHECKOUT: env.bool({ default: false }),
  /** Budget of each step, ms. */
  SMOKE_STEP_BUDGET_MS: env.int({ default: 2000, min: 50, max: 60_000 }),
  LOG_LEVEL: env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
};

/** The load generator: the same journey in a loop, with Prometheus metrics on PORT. */
export const loadgenEnv = {
  ...smokeEnv,
  PORT: env.int({ default: 8080, min: 0, max: 65535 }),
  HOST: env.string({ default: '0.0.0.0' }),
  /** Journeys started per second, all workers together. */
  LOADGEN_RATE: env.int({ default: 2, min: 1, max: 1000 }),
  /** Journeys in flight at most. */
  LOADGEN_CONCURRENCY: env.int({ default: 4, min: 1, max: 200 }),
};
