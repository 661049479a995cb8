/**
 * The catalog's tables: products and their stock. Order writes stock only through the conditional
 * reservation UPDATE in order/orders-store.ts (and the order-timeout job puts it back), so stock
 * never goes below zero (ck_stock_non_negative). Version numbers are the platform's (src/schema.ts).
 */
import type { Migration } from '../data/mysql';

export const catalogMigrations: readonly Migration[] = [
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
];
