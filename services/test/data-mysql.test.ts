import type { RowDataPacket } from 'mysql2';
import { migrate } from '../src/data/mysql';
import { migrations } from '../src/schema';
import { freshDatabase, seedProduct, type TestDatabase } from './data-engines';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('mig');
});
afterAll(() => db?.drop());

test('migrations are recorded once and re-running them applies nothing', async () => {
  const [rows] = await db.pool.query<RowDataPacket[]>('SELECT version FROM schema_migrations ORDER BY version');
  expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  expect(await migrate(db.pool, migrations)).toEqual([]);
});

test('instances starting together serialize on the migration lock', async () => {
  await db.pool.query('DELETE FROM schema_migrations WHERE version = 3');
  const runs = await Promise.all([migrate(db.pool, migrations), migrate(db.pool, migrations), migrate(db.pool, migrations)]);
  expect(runs.flat()).toEqual([3]);
});

test('the database refuses negative stock even outside the reservation path', async () => {
  const id = await seedProduct(db.pool, 1);
  await expect(db.pool.execute('UPDATE stock SET quantity = -1 WHERE product_id = ?', [id])).rejects.toThrow(/constraint/i);
});

test('a duplicate migration version is rejected before anything runs', async () => {
  await expect(migrate(db.pool, [...migrations, migrations[0]])).rejects.toThrow(/duplicate migration version 1/);
});
