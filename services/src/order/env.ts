/** The order service's variables; see services/README.md. */
import { DEFAULT_BUDGETS, budgets, env, envRule, kitSpec, tokenKeyRule, tokenSpec } from '../kit/config';
import { mysqlEnv } from '../data/settings';

export const orderSpec = {
  /**
   * How long a checkout waits for its cart's lock, and then for the stock locks of its products
   * (then 409 checkout_in_progress, or 503). Below REQUEST_BUDGET_MS: by default half of it.
   */
  CHECKOUT_LOCK_WAIT_MS: env.int({ default: budgets(DEFAULT_BUDGETS.serviceRequestMs).lockWaitMs, min: 10, max: 60_000 }),
  CHECKOUT_LOCK_TTL_MS: env.int({ default: 10_000, min: 100, max: 60_000 }),
  /** Registry name of the catalog service. */
  CATALOG_SERVICE: env.string({ default: 'catalog', pattern: /^[a-z0-9_-]+$/ }),
};

/** A lock wait must end before the request's budget does, or the client sees the budget's 503 instead of the lock's. */
export const lockWaitRule = envRule({ ...kitSpec, ...orderSpec }, (c) =>
  c.CHECKOUT_LOCK_WAIT_MS !== undefined && c.REQUEST_BUDGET_MS !== undefined && c.CHECKOUT_LOCK_WAIT_MS >= c.REQUEST_BUDGET_MS
    ? [`CHECKOUT_LOCK_WAIT_MS must be below REQUEST_BUDGET_MS (${c.REQUEST_BUDGET_MS}) (got "${c.CHECKOUT_LOCK_WAIT_MS}")`]
    : [],
);

/** Every variable `SERVICE=order` reads: the kit's, its token check's, MySQL's (connectMysql), its own. */
export const orderEnv = { ...kitSpec, ...tokenSpec, ...mysqlEnv, ...orderSpec };
export const orderRules = [tokenKeyRule, lockWaitRule];
