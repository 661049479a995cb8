/**
 * The platform schema. One database; each table is owned by one service (users, user_roles: user;
 * products, stock: catalog; orders, order_items, checkout_requests: order). Order writes stock
 * only through the conditional reservation UPDATE in order/orders-store.ts, so stock can never go
 * below zero.
 */
import { ensureDatabase, migrate, type Migration, type MysqlSettings, type Pool } from './mysql';

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'users',
    statements: [
      `CREATE TABLE IF NOT EXISTS users (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         email VARCHAR(254) NOT NULL,
         password_hash VARCHAR(255) NOT NULL,
         name VARCHAR(100) NOT NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
         UNIQUE KEY uq_users_email (email)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    ],
  },
  {
    version: 2,
    name: 'products and stock',
    statements: [
      `CREATE TABLE IF NOT EXISTS products (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         sku VARCHAR(64) NOT NULL,
         name VARCHAR(200) NOT NULL,
         description TEXT NOT NULL,
         category VARCHAR(64) NOT NULL,
         price_cents INT UNSIGNED NOT NULL,
         image_key VARCHAR(512) NULL,
         version INT UNSIGNED NOT NULL DEFAULT 1,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
         UNIQUE KEY uq_products_sku (sku),
         KEY ix_products_updated (updated_at)
       ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
      `CREATE TABLE IF NOT EXISTS stock (
         product_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
         quantity INT NOT NULL,
         version INT UNSIGNED NOT NULL DEFAULT 1,
         updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
         CONSTRAINT ck_stock_non_negative CHECK (quantity >= 0),
         CONSTRAINT fk_stock_product FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
         KEY ix_stock_updated (updated_at)
       ) ENGINE=InnoDB`,
    ],
  },
  {
    version: 3,
    name: 'orders and order items',
    statements: [
      `CREATE TABLE IF NOT EXISTS orders (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         user_id BIGINT UNSIGNED NOT NULL,
         status ENUM('pending', 'paid', 'cancelled') NOT NULL DEFAULT 'pending',
         total_cents BIGINT UNSIGNED NOT NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
         KEY ix_orders_status_created (status, created_at),
         KEY ix_orders_user (user_id, created_at)
       ) ENGINE=InnoDB`,
      `CREATE TABLE IF NOT EXISTS order_items (
         order_id BIGINT UNSIGNED NOT NULL,
         product_id BIGINT UNSIGNED NOT NULL,
         quantity INT UNSIGNED NOT NULL,
         price_cents INT UNSIGNED NOT NULL,
         PRIMARY KEY (order_id, product_id),
         CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE
       ) ENGINE=InnoDB`,
    ],
  },
  {
    version: 4,
    name: 'event outbox',
    statements: [
      `CREATE TABLE IF NOT EXISTS event_outbox (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         stream VARCHAR(100) NOT NULL,
         type VARCHAR(100) NOT NULL,
         payload TEXT NOT NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         published_at TIMESTAMP(3) NULL,
         KEY ix_outbox_pending (published_at, created_at)
       ) ENGINE=InnoDB`,
    ],
  },
  {
    version: 5,
    name: 'checkout idempotency keys',
    statements: [
      // One row per (user, Idempotency-Key), written in the order's transaction before anything
      // else: a second checkout with the same key waits on this row and then finds the order.
      `CREATE TABLE IF NOT EXISTS checkout_requests (
         user_id BIGINT UNSIGNED NOT NULL,
         idempotency_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
         request_hash CHAR(64) CHARACTER SET ascii NOT NULL,
         order_id BIGINT UNSIGNED NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         PRIMARY KEY (user_id, idempotency_key),
         KEY ix_checkout_requests_created (created_at)
       ) ENGINE=InnoDB`,
    ],
  },
  {
    version: 6,
    name: 'user roles',
    statements: [
      `CREATE TABLE IF NOT EXISTS user_roles (
         user_id BIGINT UNSIGNED NOT NULL,
         role VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
         granted_by BIGINT UNSIGNED NULL,
         granted_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         PRIMARY KEY (user_id, role),
         CONSTRAINT fk_user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
       ) ENGINE=InnoDB`,
    ],
  },
];

/** Creates the database where the user may (local engines; in AWS it exists), then migrates. */
export async function ensureSchema(pool: Pool, settings: MysqlSettings): Promise<number[]> {
  await ensureDatabase(settings).catch((err: { code?: string }) => {
    if (err.code !== 'ER_DBACCESS_DENIED_ERROR' && err.code !== 'ER_ACCESS_DENIED_ERROR') throw err;
  });
  return migrate(pool, migrations);
}
