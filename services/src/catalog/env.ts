/** The catalog service's variables; see services/README.md. */
import { env, kitSpec, tokenKeyRule, tokenSpec } from '../kit/config';
import { mysqlEnv, openSearchAuthRule, openSearchEnv, s3Env, searchIndexEnv } from '../data/settings';

export const catalogSpec = {
  CATALOG_CACHE_TTL_SECONDS: env.int({ default: 300, min: 1, max: 86_400 }),
  /** Role a user needs to create or change products (the `admin` role may too). Granted by an admin (user service). */
  CATALOG_WRITER_ROLE: env.string({ default: 'catalog-writer', pattern: /^[a-z][a-z0-9-]{0,63}$/ }),
};

/** Every variable `SERVICE=catalog` reads: the kit's, its token check's, its stores' (connectMysql, connectSearch, connectUploads), its own. */
export const catalogEnv = { ...kitSpec, ...tokenSpec, ...mysqlEnv, ...openSearchEnv, ...searchIndexEnv, ...s3Env, ...catalogSpec };
export const catalogRules = [openSearchAuthRule, tokenKeyRule];
