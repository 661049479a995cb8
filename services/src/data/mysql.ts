/**
 * MySQL (RDS MySQL 8.4 in AWS, MariaDB locally): pool factory, transactions, idempotent migrations.
 * Every statement in this codebase goes through placeholders; nothing is concatenated into SQL.
 */
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { loadConfig } from '../kit/config';
import { mysqlAttributes, sqlOperation, storeCall } from '../kit/store-tracing';
import { tracing, type Tracing } from '../kit/tracing';
import { mysqlEnv } from './settings';

export { mysqlEnv };

export type { Pool, PoolConnection };

export interface MysqlSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  poolSize: number;
  tls: boolean;
}

export function mysqlSettingsFromEnv(source: NodeJS.ProcessEnv = process.env): MysqlSettings {
  const c = loadConfig(mysqlEnv, source);
  return {
    host: c.MYSQL_HOST,
    port: c.MYSQL_PORT,
    user: c.MYSQL_USER,
    password: c.MYSQL_PASSWORD,
    database: c.MYSQL_DATABASE,
    poolSize: c.MYSQL_POOL_SIZE,
    tls: c.MYSQL_TLS,
  };
}

/** Bounds of a pool's waits, ms (a service's come from its request budget: `ctx.budgets`). */
export interface MysqlBounds {
  /** Opening a connection, handshake included. @default 3000 */
  readonly connectMs?: number;
  /** Waiting for a free connection of the pool. @default unbounded */
  readonly acquireMs?: number;
  /** One statement (and START TRANSACTION / COMMIT / ROLLBACK). @default unbounded */
  readonly queryMs?: number;
}

export function createMysqlPool(s: MysqlSettings, bounds: MysqlBounds = {}): Pool {
  const pool = mysql.createPool({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    database: s.database,
    connectionLimit: s.poolSize,
    // Fail fast when the database is unreachable so callers can answer 503 instead of hanging.
    connectTimeout: bounds.connectMs ?? 3000,
    waitForConnections: true,
    queueLimit: 500,
    enableKeepAlive: true,
    // BIGINT ids and DECIMAL come back as numbers while they fit; ids here stay far below 2^53.
    supportBigNumbers: true,
    dateStrings: false,
    timezone: 'Z',
    ssl: s.tls ? { rejectUnauthorized: true } : undefined,
  });
  // Sessions in UTC: TIMESTAMP columns, NOW() and the driver's Date conversion then agree.
  pool.pool.on('connection', (conn) => {
    conn.query("SET time_zone = '+00:00'");
  });
  const bounded = bounds.acquireMs || bounds.queryMs ? boundedPool(pool, bounds) : pool;
  const tr = tracing();
  return tr.enabled ? tracedPool(bounded, s.database, tr) : bounded;
}

/** `target` with some methods replaced; every other function is bound to it (pools and connections keep working). */
function overriding<T extends object>(target: T, methods: Partial<Record<PropertyKey, unknown>>): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (prop in methods) return methods[prop as keyof typeof methods];
      const value: unknown = Reflect.get(t, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/**
 * A client span per statement (`SELECT shop`, the parameterized text; values are never recorded), on
 * the pool and on the connections it hands out (transactions), inside an active span only.
 */
export function tracedPool(pool: Pool, database: string, tr: Tracing): Pool {
  const statement = (target: Pool | PoolConnection, method: 'query' | 'execute') => (...args: unknown[]) =>
    storeCall(tr, `${sqlOperation(args[0])} ${database}`, mysqlAttributes(args[0], database), () => (target[method] as (...a: unknown[]) => Promise<unknown>)(...args));
  const connection = (conn: PoolConnection): PoolConnection => overriding(conn, { query: statement(conn, 'query'), execute: statement(conn, 'execute') });
  return overriding(pool, {
    query: statement(pool, 'query'),
    execute: statement(pool, 'execute'),
    getConnection: async () => connection(await pool.getConnection()),
  });
}

/** A wait on MySQL that ran out of its bound (the database is frozen, or far too slow). */
export class MysqlTimeoutError extends Error {
  readonly code = 'PROTOCOL_SEQUENCE_TIMEOUT';
  readonly fatal = true;
  constructor(what: string, ms: number) {
    super(`MySQL did not ${what} within ${ms} ms`);
    this.name = 'MysqlTimeoutError';
  }
}

async function within<T>(work: Promise<T>, ms: number | undefined, what: string, onTimeout: () => void): Promise<T> {
  if (!ms) return work;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new MysqlTimeoutError(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The pool with every wait bounded: taking a connection (`acquireMs`), and each statement on it
 * (`queryMs`; transaction statements included). A statement that runs out of time destroys its
 * connection (its answer may still come and would be read as the next one's), so a frozen
 * database costs each request one bounded wait and a fast 503, and the pool heals when it thaws.
 */
export function boundedPool(pool: Pool, bounds: MysqlBounds): Pool {
  const { acquireMs, queryMs } = bounds;
  const acquire = async (): Promise<PoolConnection> => {
    let late = false;
    const pending = pool.getConnection();
    pending.then((c) => late && c.release(), () => undefined);
    return boundedConnection(await within(pending, acquireMs, 'hand out a connection', () => (late = true)));
  };
  const boundedConnection = (conn: PoolConnection): PoolConnection => {
    const bound = (run: () => Promise<unknown>) => within(run(), queryMs, 'answer a statement', () => conn.destroy());
    const statement = (method: 'query' | 'execute') => (...args: unknown[]) => bound(() => (conn[method] as (...a: unknown[]) => Promise<unknown>)(...args));
    return overriding(conn, {
      query: statement('query'),
      execute: statement('execute'),
      beginTransaction: () => bound(() => conn.query('START TRANSACTION')),
      commit: () => bound(() => conn.query('COMMIT')),
      rollback: () => bound(() => conn.query('ROLLBACK')),
    });
  };
  const onPool = (method: 'query' | 'execute') => async (...args: unknown[]) => {
    const conn = await acquire();
    try {
      return await (conn[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    } finally {
      conn.release();
    }
  };
  return overriding(pool, { getConnection: acquire, query: onPool('query'), execute: onPool('execute') });
}

/** Creates the database when missing (local runs and tests; in AWS the stack creates it). */
export async function ensureDatabase(s: MysqlSettings): Promise<void> {
  const conn = await mysql.createConnection({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    connectTimeout: 3000,
  });
  try {
    // The name is validated by the MYSQL_DATABASE pattern; identifiers cannot be placeholders.
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${s.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await conn.end();
  }
}

/** Runs `work` in a transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}

export interface Migration {
  /** Strictly increasing; never renumber a migration that has shipped. */
  readonly version: number;
  readonly name: string;
  /** Statements run in order. DDL auto-commits in MySQL, so each should be safe to re-run. */
  readonly statements: readonly string[];
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`. Safe to call from every instance
 * at start: a named lock serializes concurrent starters, and applied versions are skipped.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].version === sorted[i - 1].version) throw new Error(`duplicate migration version ${sorted[i].version}`);
  }
  const conn = await pool.getConnection();
  const lockName = 'schema_migrations';
  try {
    const [lockRows] = await conn.query<mysql.RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS got', [lockName]);
    if (lockRows[0]?.got !== 1) throw new Error('could not take the schema migration lock within 60 s');
    await conn.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version INT UNSIGNED NOT NULL PRIMARY KEY,
         name VARCHAR(200) NOT NULL,
         applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
       ) ENGINE=InnoDB`,
    );
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => Number(r.version)));
    const ran: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      for (const sql of m.statements) await conn.query(sql);
      await conn.query('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
      ran.push(m.version);
    }
    return ran;
  } finally {
    await conn.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    conn.release();
  }
}
