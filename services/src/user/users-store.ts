/** Users and their roles in MySQL (the user service owns both tables). */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Pool } from '../data/mysql';

export interface User {
  id: number;
  email: string;
  name: string;
  createdAt: string;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export class EmailTakenError extends Error {
  constructor() {
    super('an account with this email already exists');
    this.name = 'EmailTakenError';
  }
}

function toUser(r: RowDataPacket): UserWithHash {
  return { id: Number(r.id), email: r.email, name: r.name, createdAt: new Date(r.created_at).toISOString(), passwordHash: r.password_hash };
}

export function publicUser(u: User): User {
  return { id: u.id, email: u.email, name: u.name, createdAt: u.createdAt };
}

/** A role name: lowercase, digits and dashes (`admin`, `catalog-writer`). */
export const ROLE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/** The role that may grant and revoke roles (and has every other). */
export const ADMIN_ROLE = 'admin';

/** The user's roles, sorted. */
export async function rolesOf(pool: Pool, userId: number): Promise<string[]> {
  const [rows] = await pool.execute<RowDataPacket[]>('SELECT role FROM user_roles WHERE user_id = ? ORDER BY role', [userId]);
  return rows.map((r) => String(r.role));
}

/** Grants `role` (idempotent); false if there is no such user. */
export async function grantRole(pool: Pool, userId: number, role: string, grantedBy: number | null): Promise<boolean> {
  try {
    await pool.execute('INSERT IGNORE INTO user_roles (user_id, role, granted_by) VALUES (?, ?, ?)', [userId, role, grantedBy]);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_NO_REFERENCED_ROW_2' || (err as { code?: string }).code === 'ER_NO_REFERENCED_ROW') return false;
    throw err;
  }
}

/** Revokes `role` (idempotent). */
export async function revokeRole(pool: Pool, userId: number, role: string): Promise<void> {
  await pool.execute('DELETE FROM user_roles WHERE user_id = ? AND role = ?', [userId, role]);
}

export async function createUser(pool: Pool, email: string, name: string, passwordHash: string): Promise<User> {
  try {
    const [res] = await pool.execute<ResultSetHeader>('INSERT INTO users (email, name, password_hash) VALUES (?, ?, ?)', [email, name, passwordHash]);
    return publicUser((await findUserById(pool, res.insertId))!);
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') throw new EmailTakenError();
    throw err;
  }
}

export async function findUserByEmail(pool: Pool, email: string): Promise<UserWithHash | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>('SELECT * FROM users WHERE email = ?', [email]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function findUserById(pool: Pool, id: number): Promise<UserWithHash | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>('SELECT * FROM users WHERE id = ?', [id]);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function updateUser(pool: Pool, id: number, patch: { name?: string; passwordHash?: string }): Promise<boolean> {
  const sets: string[] = [];
  const values: string[] = [];
  if (patch.name !== undefined) {
    sets.push('name = ?');
    values.push(patch.name);
  }
  if (patch.passwordHash !== undefined) {
    sets.push('password_hash = ?');
    values.push(patch.passwordHash);
  }
  if (sets.length === 0) return Boolean(await findUserById(pool, id));
  const [res] = await pool.execute<ResultSetHeader>(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...values, id]);
  return res.affectedRows === 1;
}
