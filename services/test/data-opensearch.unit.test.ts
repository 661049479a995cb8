import { createServer } from 'node:http';
import { createOpenSearchClient } from '../src/data/opensearch';

test('OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD authenticate with basic auth (a loopback node sees them)', async () => {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cluster_name: 'test', version: { number: '2.19.0', distribution: 'opensearch' } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const authed = createOpenSearchClient({ OPENSEARCH_URL: url, OPENSEARCH_USERNAME: 'admin', OPENSEARCH_PASSWORD: 'pa:ss' });
    await authed.info();
    await authed.close();
    const anonymous = createOpenSearchClient({ OPENSEARCH_URL: url });
    await anonymous.info();
    await anonymous.close();
    expect(seen).toEqual([`Basic ${Buffer.from('admin:pa:ss').toString('base64')}`, undefined]);
  } finally {
    server.close();
  }
});

test('half a user, or a user and SigV4 at once, is refused naming the variables', () => {
  expect(() => createOpenSearchClient({ OPENSEARCH_USERNAME: 'admin' })).toThrow('OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD: set both or neither');
  expect(() => createOpenSearchClient({ OPENSEARCH_USERNAME: 'admin', OPENSEARCH_PASSWORD: 'x', OPENSEARCH_SIGV4_REGION: 'eu-west-1' })).toThrow(
    'OPENSEARCH_SIGV4_REGION and OPENSEARCH_USERNAME: choose one',
  );
});
