/**
 * The user service's tables: accounts (users) and the roles granted to them (user_roles).
 * Version numbers are the platform's (src/schema.ts): never renumber one that has shipped.
 */
import type { Migration } from '../data/mysql';

export const userMigrations: readonly Migration[] = [
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
