jest.setTimeout(60_000);

import { createOpenSearchClient } from '../src/data/opensearch';
import { createCatalogService } from '../src/catalog';
import type { Service } from '../src/kit';
import { engineEnv, freshDatabase, uniqueName, type TestDatabase } from './data-engines';
import { call, eventually, inProcess, serviceEnv } from './data-services';
import { deadPort } from './support/http';
import { testTokens, type TestTokens } from './support/tokens';

let db: TestDatabase;
let svc: Service;
let tokens: TestTokens;
const alias = uniqueName('products-test').toLowerCase();
let writer: Record<string, string>;

beforeAll(async () => {
  db = await freshDatabase('catalog');
  tokens = await testTokens(serviceEnv(db.settings.database));
  writer = await tokens.as(1, ['catalog-writer']);
  svc = await inProcess(() => createCatalogService(), serviceEnv(db.settings.database, { REGISTRY_ENABLED: 'false', SEARCH_INDEX_ALIAS: alias, ...tokens.env }));
  // The index is created in the background at start; products written before it exists reach
  // search through search-sync only.
  await eventually(async () => (await call(svc.url, 'GET', '/public/search')).status === 200, 20_000);
});
afterAll(async () => {
  await svc?.stop();
  const os = createOpenSearchClient(engineEnv());
  await os.indices.delete({ index: `${alias}-*` }).catch(() => undefined);
  await os.close();
  await db?.drop();
});

async function create(fields: Record<string, unknown> = {}) {
  const res = await call(svc.url, 'POST', '/products', {
    headers: writer,
    body: { sku: uniqueName('sku'), name: 'Trail Running Shoe', description: 'Light shoe for running on trails', category: 'shoes', priceCents: 8900, stock: 5, ...fields },
  });
  expect(res.status).toBe(201);
  return res.body.product as { id: number; version: number; priceCents: number };
}

test('writes need the writer role; reads are cache-aside with view counters and a hot list', async () => {
  const body = { sku: 'x', name: 'x', category: 'x', priceCents: 1, stock: 1 };
  expect((await call(svc.url, 'POST', '/products', { body })).status).toBe(401);
  expect((await call(svc.url, 'POST', '/products', { body, headers: { 'x-user-id': '1', 'x-user-roles': 'catalog-writer' } })).status).toBe(401);
  const customer = await call(svc.url, 'POST', '/products', { body, headers: await tokens.as(2, ['customer']) });
  expect(customer.status).toBe(403);
  expect(customer.body).toMatchObject({ error: 'forbidden', message: 'Writing products needs the catalog-writer role' });
  const a = await create();
  const b = await create({ name: 'Road Bike' });

  const first = await call(svc.url, 'GET', `/public/products/${a.id}`);
  expect(first.status).toBe(200);
  expect(first.headers.get('x-cache')).toBe('miss');
  const second = await call(svc.url, 'GET', `/public/products/${a.id}`);
  expect(second.headers.get('x-cache')).toBe('hit');
  expect(second.body.product).toMatchObject({ id: a.id, stock: 5, views: 2 });

  const patched = await call(svc.url, 'PATCH', `/products/${a.id}`, { headers: writer, body: { priceCents: 7900, stock: 4 } });
  expect(patched.body.product).toMatchObject({ priceCents: 7900, stock: 4 });
  const afterWrite = await call(svc.url, 'GET', `/public/products/${a.id}`);
  expect(afterWrite.headers.get('x-cache')).toBe('miss');
  expect(afterWrite.body.product).toMatchObject({ priceCents: 7900, stock: 4, views: 3 });

  await call(svc.url, 'GET', `/public/products/${b.id}`);
  const hot = await call(svc.url, 'GET', '/public/products/hot?limit=100');
  const ranks = hot.body.products.map((p: { id: number }) => p.id);
  expect(ranks.indexOf(a.id)).toBeLessThan(ranks.indexOf(b.id));

  const batch = await call(svc.url, 'GET', `/public/products?ids=${a.id}&ids=${b.id}&ids=999999`);
  expect(batch.body.products.map((p: { id: number }) => p.id)).toEqual([a.id, b.id]);
  expect((await call(svc.url, 'GET', '/public/products/999999')).status).toBe(404);
  expect((await call(svc.url, 'POST', '/products', { headers: writer, body: { sku: 'dup-' + a.id, name: 'x', category: 'x', priceCents: 1, stock: 1 } })).status).toBe(201);
  expect((await call(svc.url, 'POST', '/products', { headers: writer, body: { sku: 'dup-' + a.id, name: 'x', category: 'x', priceCents: 1, stock: 1 } })).status).toBe(409);
});

test('search: analyzed text, filters, sort and pagination', async () => {
  const tag = uniqueName('cat').replace(/_/g, '-');
  await create({ name: 'Crème Running Shoes', category: tag, priceCents: 12000, stock: 0 });
  await create({ name: 'Runner Shoes', category: tag, priceCents: 5000 });
  await create({ name: 'Hiking boot', description: 'not for running', category: tag, priceCents: 9000 });
  await create({ name: 'Tent', description: 'two person', category: tag, priceCents: 20000 });
  const os = createOpenSearchClient(engineEnv());
  await os.indices.refresh({ index: alias });
  await os.close();

  const search = async (qs: string) => (await call(svc.url, 'GET', `/public/search?category=${tag}&${qs}`)).body;
  const names = async (qs: string) => (await search(qs)).items.map((d: { name: string }) => d.name);
  expect(await names('q=SHOES&sort=price_asc')).toEqual(['Runner Shoes', 'Crème Running Shoes']);
  expect(await names('q=shoes&inStock=true')).toEqual(['Runner Shoes']);
  expect(await names('q=running&sort=name')).toEqual(['Crème Running Shoes', 'Hiking boot', 'Runner Shoes']); // name or description
  expect(await names('q=creme')).toEqual(['Crème Running Shoes']); // folded, or one edit away
  expect(await names('q=tnet')).toEqual(['Tent']); // a typo is tolerated
  expect(await names('q=te')).toEqual(['Tent']); // search as you type
  expect((await search('minPriceCents=8000&maxPriceCents=15000&sort=price_desc')).items.map((d: { priceCents: number }) => d.priceCents)).toEqual([12000, 9000]);
  const page2 = await search('sort=price_asc&size=3&page=2');
  expect(page2).toMatchObject({ total: 4, page: 2, size: 3 });
  expect(page2.items.map((d: { name: string }) => d.name)).toEqual(['Tent']);
  expect((await call(svc.url, 'GET', `/public/search?category=${tag.toUpperCase()}`)).body.total).toBe(4); // category is case-folded
});

test('image upload: presigned PUT straight to S3, then confirmed into MySQL', async () => {
  const p = await create();
  const bytes = Buffer.from('\x89PNG\r\n\x1a\nnot-really-a-png');
  const presign = await call(svc.url, 'POST', `/products/${p.id}/image-upload`, { headers: writer, body: { contentType: 'image/png', contentLength: bytes.length } });
  expect(presign.status).toBe(201);
  const { url, key, headers } = presign.body.upload;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:29000\//);
  expect((await call(svc.url, 'POST', `/products/${p.id}/image`, { headers: writer, body: { key } })).status).toBe(409);

  const wrongType = await fetch(url, { method: 'PUT', headers: { ...headers, 'content-type': 'text/html' }, body: bytes });
  expect(wrongType.status).toBe(403);
  const put = await fetch(url, { method: 'PUT', headers, body: bytes });
  expect(put.status).toBe(200);

  const confirmed = await call(svc.url, 'POST', `/products/${p.id}/image`, { headers: writer, body: { key } });
  expect(confirmed.status).toBe(200);
  expect(confirmed.body.product.imageKey).toBe(key);
  const other = await create();
  expect((await call(svc.url, 'POST', `/products/${other.id}/image`, { headers: writer, body: { key } })).status).toBe(400);
});

test.each([
  ['POST', '/products', { sku: 'ok-1', category: 'x', priceCents: 1, stock: 1 }, 'name'],
  ['POST', '/products', { sku: 'ok-1', name: 'x', category: 'x', priceCents: -1, stock: 1 }, 'priceCents'],
  ['POST', '/products', { sku: 'ok-1', name: 'x', category: 'x', priceCents: '12', stock: 1 }, 'priceCents'],
  ['POST', '/products', { sku: 'ok 1', name: 'x', category: 'x', priceCents: 1, stock: 1 }, 'sku'],
  ['POST', '/products', { sku: 'ok-1', name: 'x', category: '<script>', priceCents: 1, stock: 1 }, 'category'],
  ['POST', '/products', { sku: 'ok-1', name: 'x', category: 'x', priceCents: 1, stock: 1, admin: true }, 'additional'],
  ['PATCH', '/products/1', {}, 'body'],
  ['PATCH', '/products/abc', { name: 'x' }, 'id'],
  ['POST', '/products/1/image-upload', { contentType: 'text/html', contentLength: 10 }, 'contentType'],
  ['POST', '/products/1/image-upload', { contentType: 'image/png', contentLength: 999_999_999 }, 'contentLength'],
  ['POST', '/products/1/image', { key: '../../etc/passwd' }, 'key'],
  ['GET', '/public/search?sort=cheapest', undefined, 'sort'],
  ['GET', '/public/search?size=1000', undefined, 'size'],
  ['GET', '/public/search?page=500&size=100', undefined, 'page'],
  ['GET', '/public/search?minPriceCents=10&maxPriceCents=5', undefined, 'minPriceCents'],
  ['GET', '/public/products/0', undefined, 'id'],
  ['GET', '/public/products?ids=x', undefined, 'ids'],
])('%s %s %j is a 400 naming %s', async (method, path, body, field) => {
  const res = await call(svc.url, method, path, { headers: writer, body });
  expect(res.status).toBe(400);
  expect(res.body.message).toContain(field);
});

test('MySQL or OpenSearch unreachable: friendly 503s, the process stays up and says not ready', async () => {
  const down = await inProcess(
    () => createCatalogService(),
    serviceEnv(db.settings.database, { REGISTRY_ENABLED: 'false', MYSQL_PORT: String(await deadPort()), OPENSEARCH_URL: `http://127.0.0.1:${await deadPort()}` }),
    false,
  );
  await down.start();
  try {
    await eventually(async () => (await call(down.url, 'GET', '/readyz')).body.checks.redis === 'ok');
    const read = await call(down.url, 'GET', '/public/products/1234567890123');
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toBe('2');
    expect(read.body).toMatchObject({ error: 'service_unavailable', message: expect.stringContaining('database') });
    const search = await call(down.url, 'GET', '/public/search?q=x');
    expect(search.status).toBe(503);
    expect(search.body.message).toContain('search');
    expect((await call(down.url, 'GET', '/healthz')).status).toBe(200);
    // Reported, not critical: the instance still serves what needs no MySQL (cached pages).
    const ready = await call(down.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.mysql).not.toBe('ok');
    expect(read.headers.get('x-dependency-unavailable')).toBe('database');
  } finally {
    await down.stop();
  }
});
