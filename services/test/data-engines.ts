/**
 * Test helpers for the data-side tests: real engines only (scripts/engines.sh writes their
 * addresses to /tmp/platform-engines/engines.env; variables already set in the environment win).
 * Each test file gets its own MySQL database so files can run in any order.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { createMysqlPool, ensureDatabase, migrate, mysqlSettingsFromEnv, type MysqlSettings, type Pool } from '../src/data/mysql';
import { migrations } from '../src/schema';

const ENV_FILE = process.env.ENGINES_ENV_FILE ?? '/tmp/platform-engines/engines.env';

/** The engines' variables: the env file, overridden by anything already in process.env. */
export function engineEnv(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  if (existsSync(ENV_FILE)) {
    for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
      const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) out[m[1]] = m[2].replace(/^["']|["']$/g, '');
    }
  }
  return { ...out, ...process.env };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  settings: MysqlSettings;
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * Waits until every master of the shared Redis Cluster takes writes: a fault test that ran just
 * before (a killed master) may leave a failover in progress for a few seconds.
 */
export async function redisSettled(timeoutMs = 20_000): Promise<void> {
  const redis = testRedis();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        // 32 hash tags land on every one of the 3 masters' slot ranges.
        await Promise.all(Array.from({ length: 32 }, (_, i) => redis.set(`settle:{${i}}`, '1', 'PX', 5000)));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    redis.disconnect();
  }
}

/** A fresh, migrated database for one test file (and a Redis Cluster that takes writes). */
export async function freshDatabase(prefix = 't'): Promise<TestDatabase> {
  await redisSettled();
  const settings = { ...mysqlSettingsFromEnv(engineEnv()), database: uniqueName(prefix) };
  await ensureDatabase(settings);
  const pool = createMysqlPool(settings);
  await migrate(pool, migrations);
  // Redis is shared by all test files: ids unique across databases keep cache keys from colliding.
  const base = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
  for (const table of ['users', 'products', 'orders']) await pool.query(`ALTER TABLE ${table} AUTO_INCREMENT = ${base}`);
  return {
    settings,
    pool,
    async drop() {
      await pool.query(`DROP DATABASE IF EXISTS \`${settings.database}\``).catch(() => undefined);
      await pool.end();
    },
  };
}

export function redisNodes(): { host: string; port: number }[] {
  const raw = engineEnv().REDIS_CLUSTER_NODES ?? '127.0.0.1:27001';
  return raw.split(',').map((hp) => {
    const [host, port] = hp.trim().split(':');
    return { host, port: Number(port) };
  });
}

export function testRedis(): Cluster {
  return new Cluster(redisNodes(), { redisOptions: { maxRetriesPerRequest: 3, commandTimeout: 5000 }, retryDelayOnFailover: 200, retryDelayOnClusterDown: 300 });
}

/** Inserts a product with stock; returns its id. */
export async function seedProduct(pool: Pool, stock: number, overrides: Partial<{ name: string; category: string; priceCents: number; description: string }> = {}): Promise<number> {
  const [res] = await pool.execute<import('mysql2').ResultSetHeader>(
    'INSERT INTO products (sku, name, description, category, price_cents) VALUES (?, ?, ?, ?, ?)',
    [
      uniqueName('sku'),
      overrides.name ?? 'Test product',
      overrides.description ?? 'A product made for a test',
      overrides.category ?? 'test',
      overrides.priceCents ?? 1000,
    ],
  );
  await pool.execute('INSERT INTO stock (product_id, quantity) VALUES (?, ?)', [res.insertId, stock]);
  return res.insertId;
}

export async function stockOf(pool: Pool, productId: number): Promise<number> {
  const [rows] = await pool.execute<import('mysql2').RowDataPacket[]>('SELECT quantity FROM stock WHERE product_id = ?', [productId]);
  return Number(rows[0]?.quantity);
}
