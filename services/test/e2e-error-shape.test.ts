jest.setTimeout(60_000);

import { rawRequest } from './support/http';
import { startStack, type Stack } from './support/stack';

/**
 * Issue 11, item 7: every error, from any layer (router, HTTP parser, gateway, service), is
 * `{ error, message, requestId }` with the same id in `x-request-id`, and echoes nothing back.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ prefix: 'errors' });
});
afterAll(() => stack?.stop());

const longId = '9'.repeat(1000);

function expectShape(status: number, res: { status: number; headers: Headers; body: unknown }, echoed: string[] = []) {
  const body = res.body as Record<string, unknown>;
  expect({ status: res.status, keys: Object.keys(body ?? {}).sort() }).toEqual({ status, keys: expect.arrayContaining(['error', 'message', 'requestId']) });
  expect(typeof body.error).toBe('string');
  expect(body.error).not.toMatch(/^FST_|^ERR_/);
  expect(res.headers.get('x-request-id')).toBe(body.requestId);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  for (const e of echoed) expect(JSON.stringify(body)).not.toContain(e);
  expect(Object.keys(body)).not.toEqual(expect.arrayContaining(['statusCode', 'code']));
}

test.each([
  ['a 1000-digit id', `/public/products/${longId}`, 414, [longId.slice(0, 50)]],
  ['%FF in the path', '/public/products/%FF', 400, ['%FF']],
  ['an unknown route', `/public/nothing-here-${'z'.repeat(40)}`, 404, ['z'.repeat(40)]],
])('%s: through the gateway and on the service itself', async (_what, path, status, echoed) => {
  const through = await stack.api('GET', `/api/catalog${path}`);
  const direct = await fetch(`${stack.instances.find((i) => i.name === 'catalog')!.url}${path}`);
  const text = await direct.text();
  console.log(`[item 7] ${_what}: gateway ${through.status} ${JSON.stringify(through.body).slice(0, 90)}; service ${direct.status} ${text.slice(0, 90)}`);
  expectShape(status, through, echoed as string[]);
  expectShape(status, { status: direct.status, headers: direct.headers, body: JSON.parse(text) }, echoed as string[]);
});

test('the gateway\'s own router errors have the same shape', async () => {
  expectShape(400, await stack.api('GET', '/api/%FF/x'), ['%FF']);
  expectShape(404, await stack.api('GET', `/nowhere-${'q'.repeat(30)}`), ['q'.repeat(30)]);
  expectShape(404, await stack.api('GET', `/api/no-such-service-${'w'.repeat(30)}`), ['w'.repeat(30)]);
});

test('what the HTTP parser refuses is answered in the same shape too', async () => {
  const raw = await rawRequest(stack.url, 'GET /api/catalog/public/search HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
  console.log(`[item 7] malformed header: ${raw.split('\r\n')[0]} ${raw.slice(raw.indexOf('\r\n\r\n') + 4, raw.indexOf('\r\n\r\n') + 100)}`);
  expect(raw).toMatch(/^HTTP\/1\.1 400 /);
  const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  expect(body).toEqual({ error: 'bad_request', message: expect.any(String), requestId: expect.any(String) });
  expect(head.toLowerCase()).toContain(`x-request-id: ${body.requestId}`.toLowerCase());
});
