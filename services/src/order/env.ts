/** The order service's variables; see services/README.md. */
import { env, kitSpec } from '../kit/config';
import { mysqlEnv } from '../data/settings';

export const orderSpec = {
  /** How long a checkout waits for the stock locks of its products. */
  CHECKOUT_LOCK_WAIT_MS: env.int({ default: 5000, min: 10, max: 60_000 }),
  CHECKOUT_LOCK_TTL_MS: env.int({ default: 10_000, min: 100, max: 60_000 }),
  /** Registry name of the catalog service. */
  CATALOG_SERVICE: env.string({ default: 'catalog', pattern: /^[a-z0-9_-]+$/ }),
};

/** Every variable `SERVICE=order` reads: the kit's, MySQL's (connectMysql), its own. */
export const orderEnv = { ...kitSpec, ...mysqlEnv, ...orderSpec };
