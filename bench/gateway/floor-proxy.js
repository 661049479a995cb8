#!/usr/bin/env node
// The floor of a Node proxy: node:http in, undici's dispatch out, nothing else (no framework, no
// routing, no retries, no metrics). The bench's variant f; not a gateway. With `fastify` as third
// argument, the same behind a bare fastify (one catch-all route, no hooks, no logger): variant g,
// the floor of a gateway built on fastify.
// Usage: node floor-proxy.js <port> <upstream origin> [fastify]   (strips the /api/<service> prefix)
'use strict';

const http = require('node:http');
const { join } = require('node:path');
const need = (name) => require(require.resolve(name, { paths: [join(__dirname, '../../services')] }));
const { Pool } = need('undici');

const [port, upstream, mode] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 128 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

/** Sends `req` (node:http's IncomingMessage) upstream and calls `answer(status, headers, body)`. */
function forward(req, answer) {
  const headers = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const chunks = [];
  let status = 502;
  let received = {};
  pool.dispatch(
    { method: req.method, path: req.url.replace(/^\/api\/[^/]+/, '') || '/', headers },
    {
      onRequestStart() {},
      onResponseStart(_c, statusCode, responseHeaders) {
        status = statusCode;
        received = responseHeaders;
      },
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        for (const name of HOP_BY_HOP) delete received[name];
        answer(status, received, Buffer.concat(chunks));
      },
      onResponseError() {
        answer(502, {}, Buffer.alloc(0));
      },
    },
  );
}

if (mode === 'fastify') {
  const app = need('fastify')({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.all('/api/*', (req, reply) => {
    forward(req.raw, (status, headers, body) => reply.code(status).headers(headers).send(body));
  });
  app.listen({ port: Number(port), host: '127.0.0.1' });
} else {
  http
    .createServer((req, res) => {
      forward(req, (status, headers, body) => {
        res.writeHead(status, headers);
        res.end(body);
      });
    })
    .listen(Number(port), '127.0.0.1');
}

// A normal exit on the bench's SIGTERM, so a --cpu-prof given through BENCH_FLOOR_NODE_ARGS is written.
process.on('SIGTERM', () => process.exit(0));
