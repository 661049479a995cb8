/** The catalog service's variables; see services/README.md. */
import { env, kitSpec } from '../kit/config';
import { mysqlEnv, openSearchAuthRule, openSearchEnv, s3Env, searchIndexEnv } from '../data/settings';

export const catalogSpec = {
  CATALOG_CACHE_TTL_SECONDS: env.int({ default: 300, min: 1, max: 86_400 }),
  /** Role a user needs to create or change products; unset: any signed-in user. */
  CATALOG_WRITER_ROLE: env.optional(),
};

/** Every variable `SERVICE=catalog` reads: the kit's, its stores' (connectMysql, connectSearch, connectUploads), its own. */
export const catalogEnv = { ...kitSpec, ...mysqlEnv, ...openSearchEnv, ...searchIndexEnv, ...s3Env, ...catalogSpec };
export const catalogRules = [openSearchAuthRule];
