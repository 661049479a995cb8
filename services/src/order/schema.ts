/**
 * The order service's tables: orders and their items, the transactional outbox of order events
 * (data/outbox.ts) and the checkout idempotency keys. Version numbers are the platform's (src/schema.ts).
 */
import type { Migration } from '../data/mysql';

export const orderMigrations: readonly Migration[] = [
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
];
