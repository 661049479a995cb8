/**
 * The platform's one MySQL database. Each service owns its tables (user/schema.ts,
 * catalog/schema.ts, order/schema.ts); every service and job applies the whole list at start (a
 * named lock serializes them and applied versions are skipped), so whichever starts first creates
 * what the others read and write: order reserves the catalog's stock, the jobs read orders and
 * products.
 */
import { catalogMigrations } from './catalog/schema';
import { ensureDatabase, migrate, type Migration, type MysqlSettings, type Pool } from './data/mysql';
import { orderMigrations } from './order/schema';
import { userMigrations } from './user/schema';

/** Every migration of the platform, in version order. */
export const migrations: readonly Migration[] = [...userMigrations, ...catalogMigrations, ...orderMigrations].sort((a, b) => a.version - b.version);

/** Creates the database where the user may (local engines; in AWS it exists), then migrates. */
export async function ensureSchema(pool: Pool, settings: MysqlSettings): Promise<number[]> {
  await ensureDatabase(settings).catch((err: { code?: string }) => {
    if (err.code !== 'ER_DBACCESS_DENIED_ERROR' && err.code !== 'ER_ACCESS_DENIED_ERROR') throw err;
  });
  return migrate(pool, migrations);
}
