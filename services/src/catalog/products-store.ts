/** Products and their stock in MySQL (catalog owns both tables). */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { inTransaction, type Pool } from '../data/mysql';
import type { ProductDoc } from './product-search';

/** A product row with its stock; the search document is the same minus `updatedAt`, plus `inStock`. */
export interface Product extends Omit<ProductDoc, 'inStock'> {
  updatedAt: string;
}

export type NewProduct = Pick<Product, 'sku' | 'name' | 'description' | 'category' | 'priceCents' | 'stock'>;

export type ProductPatch = Partial<Omit<NewProduct, 'sku'>>;

export class DuplicateSkuError extends Error {
  constructor(readonly sku: string) {
    super(`a product with sku "${sku}" already exists`);
    this.name = 'DuplicateSkuError';
  }
}

const SELECT = `SELECT p.id, p.sku, p.name, p.description, p.category, p.price_cents, p.image_key,
                       p.created_at, GREATEST(p.updated_at, s.updated_at) AS updated_at,
                       p.version + s.version AS version, s.quantity
                  FROM products p JOIN stock s ON s.product_id = p.id`;

function toProduct(r: RowDataPacket): Product {
  return {
    id: Number(r.id),
    sku: r.sku,
    name: r.name,
    description: r.description,
    category: r.category,
    priceCents: Number(r.price_cents),
    stock: Number(r.quantity),
    imageKey: r.image_key ?? null,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    version: Number(r.version),
  };
}

export function toSearchDoc(p: Product): ProductDoc {
  const { updatedAt: _updatedAt, ...doc } = p;
  return { ...doc, inStock: p.stock > 0 };
}

export async function createProduct(pool: Pool, p: NewProduct): Promise<Product> {
  const id = await inTransaction(pool, async (conn) => {
    let res: ResultSetHeader;
    try {
      [res] = await conn.execute<ResultSetHeader>(
        'INSERT INTO products (sku, name, description, category, price_cents) VALUES (?, ?, ?, ?, ?)',
        [p.sku, p.name, p.description, p.category, p.priceCents],
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_DUP_ENTRY') throw new DuplicateSkuError(p.sku);
      throw err;
    }
    await conn.execute('INSERT INTO stock (product_id, quantity) VALUES (?, ?)', [res.insertId, p.stock]);
    return res.insertId;
  });
  return (await getProduct(pool, id))!;
}

export async function getProduct(pool: Pool, id: number): Promise<Product | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(`${SELECT} WHERE p.id = ?`, [id]);
  return rows[0] ? toProduct(rows[0]) : undefined;
}

export async function getProducts(pool: Pool, ids: readonly number[]): Promise<Product[]> {
  if (ids.length === 0) return [];
  const [rows] = await pool.query<RowDataPacket[]>(`${SELECT} WHERE p.id IN (?) ORDER BY p.id`, [ids]);
  return rows.map(toProduct);
}

const COLUMNS: Record<keyof Omit<ProductPatch, 'stock'>, string> = {
  name: 'name',
  description: 'description',
  category: 'category',
  priceCents: 'price_cents',
};

/** Applies the given fields; `stock` sets the absolute quantity. Undefined if no such product. */
export async function updateProduct(pool: Pool, id: number, patch: ProductPatch): Promise<Product | undefined> {
  const found = await inTransaction(pool, async (conn) => {
    const sets: string[] = [];
    const values: (string | number)[] = [];
    for (const [field, column] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
      if (patch[field] === undefined) continue;
      sets.push(`${column} = ?`);
      values.push(patch[field] as string | number);
    }
    const [res] = await conn.execute<ResultSetHeader>(
      `UPDATE products SET ${[...sets, 'version = version + 1'].join(', ')} WHERE id = ?`,
      [...values, id],
    );
    if (res.affectedRows === 0) return false;
    if (patch.stock !== undefined) {
      await conn.execute('UPDATE stock SET quantity = ?, version = version + 1 WHERE product_id = ?', [patch.stock, id]);
    }
    return true;
  });
  return found ? getProduct(pool, id) : undefined;
}

export async function setImageKey(pool: Pool, id: number, key: string): Promise<boolean> {
  const [res] = await pool.execute<ResultSetHeader>('UPDATE products SET image_key = ?, version = version + 1 WHERE id = ?', [key, id]);
  return res.affectedRows === 1;
}

/** Every product, in id order, a page at a time (keyset paging: no OFFSET scans). */
export async function* allProducts(pool: Pool, pageSize = 500, changedSince?: Date): AsyncGenerator<Product[]> {
  let after = 0;
  for (;;) {
    const [rows] = changedSince
      ? await pool.query<RowDataPacket[]>(
          `${SELECT} WHERE p.id > ? AND (p.updated_at >= ? OR s.updated_at >= ?) ORDER BY p.id LIMIT ?`,
          [after, changedSince, changedSince, pageSize],
        )
      : await pool.query<RowDataPacket[]>(`${SELECT} WHERE p.id > ? ORDER BY p.id LIMIT ?`, [after, pageSize]);
    if (rows.length === 0) return;
    const products = rows.map(toProduct);
    yield products;
    after = products[products.length - 1].id;
  }
}
