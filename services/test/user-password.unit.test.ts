import { hashPassword, needsRehash, verifyPassword } from '../src/user/password';

const cheap = { log2N: 10, r: 8, p: 1 };

test('a hash verifies its own password and nothing else', async () => {
  const stored = await hashPassword('correct horse battery staple', cheap);
  expect(stored).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
  expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
});

test('the same password hashes differently each time (random salt)', async () => {
  expect(await hashPassword('pw-pw-pw-pw', cheap)).not.toBe(await hashPassword('pw-pw-pw-pw', cheap));
});

test('malformed or foreign hashes never verify', async () => {
  for (const bad of ['', 'plain', 'scrypt$99$8$1$AA$AA', '$2b$10$abcdefghijklmnopqrstuv']) {
    expect(await verifyPassword('x', bad)).toBe(false);
  }
});

test('a hash below the current cost needs a rehash', async () => {
  const stored = await hashPassword('pw-pw-pw-pw', cheap);
  expect(needsRehash(stored)).toBe(true);
  expect(needsRehash(stored, cheap)).toBe(false);
});

test('the default cost is memory-hard (32 MiB) and still verifies', async () => {
  const stored = await hashPassword('pw-pw-pw-pw');
  expect(stored.startsWith('scrypt$15$8$1$')).toBe(true);
  expect(await verifyPassword('pw-pw-pw-pw', stored)).toBe(true);
});
