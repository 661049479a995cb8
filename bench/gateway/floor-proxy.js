#!/usr/bin/env node
// The floor of a Node proxy: node:http in, undici's dispatch out, nothing else (no framework, no
// routing, no retries, no metrics). The bench's variant f; not a gateway.
// Usage: node floor-proxy.js <port> <upstream origin>   (strips the /api/<service> prefix)
'use strict';

const http = require('node:http');
const { join } = require('node:path');
const { Pool } = require(require.resolve('undici', { paths: [join(__dirname, '../../services')] }));

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(upstream, { connections: 128 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

http
  .createServer((req, res) => {
    const headers = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const chunks = [];
    let status = 502;
    let answer = {};
    pool.dispatch(
      { method: req.method, path: req.url.replace(/^\/api\/[^/]+/, '') || '/', headers },
      {
        onRequestStart() {},
        onResponseStart(_c, statusCode, responseHeaders) {
          status = statusCode;
          answer = responseHeaders;
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          for (const name of HOP_BY_HOP) delete answer[name];
          res.writeHead(status, answer);
          res.end(Buffer.concat(chunks));
        },
        onResponseError() {
          res.writeHead(502);
          res.end();
        },
      },
    );
  })
  .listen(Number(port), '127.0.0.1');
