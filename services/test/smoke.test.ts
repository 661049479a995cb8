jest.setTimeout(120_000);

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createCatalogService } from '../src/catalog';
import { createOpenSearchClient } from '../src/data/opensearch';
import { createGateway } from '../src/gateway';
import type { Service } from '../src/kit';
import { createOrderService } from '../src/order';
import { createUserService } from '../src/user';
import { engineEnv, freshDatabase, stockOf, uniqueName, type TestDatabase } from './data-engines';
import { call, eventually, inProcess, serviceEnv } from './data-services';

/**
 * `SERVICE=smoke` as the release gate runs it (a process through src/main.ts), against the whole
 * stack on the real engines, through the gateway.
 */
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let gw: Service;
const services: Record<string, Service> = {};
const alias = uniqueName('smoke-products').toLowerCase();
let productId: number;

beforeAll(async () => {
  db = await freshDatabase('smoke');
  const admin = { email: `${uniqueName('admin')}@example.com`, password: 'admin-pass-123' };
  env = serviceEnv(db.settings.database, { SEARCH_INDEX_ALIAS: alias, JWT_ISSUER: 'platform-user', JWT_AUDIENCE: 'platform-api', ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
  services.user = await inProcess(createUserService, env);
  services.catalog = await inProcess(createCatalogService, env);
  services.order = await inProcess(createOrderService, env);
  gw = await createGateway({ ...env, JWT_JWKS_URL: `${services.user.url}/.well-known/jwks.json` });
  await gw.start();
  await eventually(async () => ['user', 'catalog', 'order'].every((s) => gw.ctx.registry!.instances(s).length > 0));
  await eventually(async () => (await call(gw.url, 'GET', '/api/catalog/public/search')).status === 200, 20_000);
  // A product for the journey to find (written by a seller, as in production).
  const seller = `${uniqueName('seller')}@example.com`;
  const signup = await call(gw.url, 'POST', '/api/user/public/signup', { body: { email: seller, password: 'seller-pass-1', name: 'Seller' } });
  // Product writes need the writer role, granted by the bootstrap admin.
  const adminToken = await eventually(async () => (await call(gw.url, 'POST', '/api/user/public/login', { body: admin })).body.token as string | undefined);
  await call(gw.url, 'PUT', `/api/user/users/${signup.body.user.id}/roles/catalog-writer`, { headers: { authorization: `Bearer ${adminToken}` } });
  const token = (await call(gw.url, 'POST', '/api/user/public/login', { body: { email: seller, password: 'seller-pass-1' } })).body.token as string;
  const created = await call(gw.url, 'POST', '/api/catalog/products', {
    headers: { authorization: `Bearer ${token}` },
    body: { sku: uniqueName('smoke-sku'), name: 'Smoke Lamp', description: 'for the journey', category: 'lighting', priceCents: 1000, stock: 5 },
  });
  productId = created.body.product.id as number;
  await eventually(async () => ((await call(gw.url, 'GET', '/api/catalog/public/search')).body.items as unknown[]).length > 0, 5000);
});

afterAll(async () => {
  await gw?.stop();
  for (const s of Object.values(services).reverse()) await s.stop();
  const os = createOpenSearchClient(engineEnv());
  await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await os.close();
  await db?.drop();
});

interface SmokeRun {
  readonly code: number | null;
  readonly verdict: string;
  readonly stderr: string;
  readonly steps: { step: string; ok: boolean; ms: number; skipped?: boolean; detail?: string }[];
}

function runSmoke(extra: NodeJS.ProcessEnv): Promise<SmokeRun> {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { PATH: process.env.PATH, SERVICE: 'smoke', SMOKE_BASE_URL: gw.url, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((r) =>
    child.once('exit', (code) => {
      const lines = out.trim().split('\n');
      const steps = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.msg === 'smoke step');
      r({ code, verdict: lines[lines.length - 1], steps, stderr: err });
    }),
  );
}

const account = () => ({ SMOKE_EMAIL: `${uniqueName('smoke')}@example.com`, SMOKE_PASSWORD: 'smoke-pass-123' });

test('a healthy stack passes every step, and prod mode leaves nothing behind', async () => {
  const acct = account();
  const stockBefore = await stockOf(db.pool, productId);
  const run = await runSmoke({ ...acct, SMOKE_CHECKOUT: 'false' });
  expect(run.verdict).toMatch(/^smoke PASS 7 steps in \d+ ms \(health \d+ms, search \d+ms, product \d+ms, sign-in \d+ms, cart-add \d+ms, checkout skipped, cart-clear \d+ms\)$/);
  expect(run.code).toBe(0);
  expect(run.steps.map((s) => s.step)).toEqual(['health', 'search', 'product', 'sign-in', 'cart-add', 'checkout', 'cart-clear']);
  // The smoke account exists now (first run signed up); its cart is empty, no order, stock untouched.
  const token = (await call(gw.url, 'POST', '/api/user/public/login', { body: { email: acct.SMOKE_EMAIL, password: acct.SMOKE_PASSWORD } })).body.token as string;
  const auth = { authorization: `Bearer ${token}` };
  expect((await call(gw.url, 'GET', '/api/order/cart', { headers: auth })).body.items).toEqual([]);
  expect((await call(gw.url, 'GET', '/api/order/orders', { headers: auth })).body.orders).toEqual([]);
  expect(await stockOf(db.pool, productId)).toBe(stockBefore);
  // A second run signs in (no new sign-up) and passes again.
  expect((await runSmoke({ ...acct, SMOKE_CHECKOUT: 'false' })).code).toBe(0);
});

test('with checkout allowed (dev, staging) the journey buys one item', async () => {
  const stockBefore = await stockOf(db.pool, productId);
  const run = await runSmoke({ ...account(), SMOKE_CHECKOUT: 'true' });
  expect(run.code).toBe(0);
  expect(run.steps.find((s) => s.step === 'checkout')).toEqual(expect.objectContaining({ ok: true, status: 201 }));
  expect(await stockOf(db.pool, productId)).toBe(stockBefore - 1);
});

test('a dependency down fails the journey at that step with a clear line and exit 1', async () => {
  await services.order.stop();
  try {
    await eventually(async () => gw.ctx.registry!.instances('order').length === 0);
    const run = await runSmoke({ ...account() });
    expect(run.code).toBe(1);
    expect(run.verdict).toMatch(/^smoke FAIL at cart-add: PUT \/api\/order\/cart\/items\/\d+ -> 503 /);
    expect(run.steps.map((s) => s.step)).toEqual(['health', 'search', 'product', 'sign-in', 'cart-add']);
  } finally {
    services.order = await inProcess(createOrderService, env);
    await eventually(async () => gw.ctx.registry!.instances('order').length > 0);
  }
});

test('a step slower than its budget fails the journey, naming the step and the budget', async () => {
  // A gateway whose health answer takes 280 ms (or 1 s): a real server on loopback, slow on purpose.
  const delay = { ms: 280 };
  const slow = createServer((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'), delay.ms));
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  try {
    // Slower than the budget: answered, but late.
    const late = await runSmoke({ ...account(), SMOKE_STEP_BUDGET_MS: '200', SMOKE_BASE_URL: url });
    expect(late.code).toBe(1);
    expect(late.verdict).toMatch(/^smoke FAIL at health: took \d{3} ms, budget 200 ms \(health \d+ms\)$/);
    // No answer at all: the step gives up at twice its budget.
    delay.ms = 1000;
    const hung = await runSmoke({ ...account(), SMOKE_STEP_BUDGET_MS: '100', SMOKE_BASE_URL: url });
    expect(hung.code).toBe(1);
    expect(hung.verdict).toMatch(/^smoke FAIL at health: no answer within 200 ms/);
  } finally {
    slow.closeAllConnections();
    slow.close();
  }
});

test('a bad configuration fails at start with every bad variable named, and no journey', async () => {
  const run = await runSmoke({ SMOKE_BASE_URL: 'not a url' });
  expect(run.code).toBe(1);
  expect(run.steps).toEqual([]);
  expect(run.stderr).toMatch(/SMOKE_BASE_URL must be a URL/);
  expect(run.stderr).toMatch(/SMOKE_EMAIL is required/);
});

test('the load generator runs the journey in a loop and exports its metrics at /metrics', async () => {
  const child = spawn(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
    cwd: resolve(__dirname, '..'),
    env: { PATH: process.env.PATH, SERVICE: 'loadgen', SMOKE_BASE_URL: gw.url, ...account(), PORT: '0', HOST: '127.0.0.1', LOADGEN_RATE: '5', LOADGEN_CONCURRENCY: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const url = await eventually(async () => /"url":"([^"]+)"/.exec(out)?.[1], 15_000);
    const ok = await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const n = Number(/loadgen_journeys_total\{outcome="ok",service="loadgen"\} (\d+)/.exec(text)?.[1] ?? 0);
      return n >= 3 ? text : undefined;
    }, 20_000);
    expect(ok).toMatch(/loadgen_step_duration_seconds_bucket\{le="[^"]+",service="loadgen",step="sign-in"\}/);
    expect(ok).not.toMatch(/loadgen_journeys_total\{outcome="failed"/);
    const notFound = await fetch(`${url}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ error: 'not_found', message: expect.any(String), requestId: expect.any(String) });
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
  expect(code).toBe(0);
});
