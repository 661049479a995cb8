#!/usr/bin/env node
// Gateway load benchmark, loopback only: (a) the upstream directly, (b) through the gateway with
// JWT + Redis rate limit + registry routing, (c) through nginx proxy_pass with upstream keep-alive.
// Prints req/s, p50 and p99 of each and the ratios b/a and b/c, all from one run.
// Usage: npm run bench --prefix services   (builds services/dist first)
// Knobs: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50), BENCH_ACCESS_LOG=1 (log every request in both proxies),
// BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_ONLY (e.g. "b": run only those loads).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const net = require('node:net');

const ROOT = resolve(__dirname, '../..');
const SERVICES = join(ROOT, 'services');
const need = (name) => require(require.resolve(name, { paths: [SERVICES] }));
const autocannon = need('autocannon');
const { generateKeyPair, exportJWK, SignJWT } = need('jose');

const DURATION = Number(process.env.BENCH_DURATION || 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const ACCESS_LOG = process.env.BENCH_ACCESS_LOG === '1';
const children = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function loadEnvFile(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

function start(name, cmd, args, env, readyPattern) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} did not start: ${out.slice(-2000)}`)), 30_000);
    const onData = (c) => {
      if (out.length < 100_000) out += c.toString();
      const m = readyPattern && readyPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ child, match: m });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => rej(new Error(`${name} exited ${code}: ${out.slice(-2000)}`)));
    if (!readyPattern) {
      clearTimeout(timer);
      res({ child });
    }
  });
}

async function waitHttp(url, headers = {}) {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url, { headers });
      if (r.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered 200`);
}

async function load(label, url, headers) {
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers }); // warm-up
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  const failed = r.errors + r.timeouts + r.non2xx;
  return { label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, failed };
}

async function main() {
  if (!existsSync(join(SERVICES, 'dist/main.js'))) throw new Error('services/dist/main.js missing: run `npm run build --prefix services`');
  if (!commandExists('nginx')) {
    console.error('installing nginx (Debian package)…');
    execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'inherit' });
  }
  execFileSync('bash', [join(ROOT, 'scripts/engines.sh'), 'up', 'etcd', 'redis'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const engines = loadEnvFile(process.env.ENGINES_ENV_FILE || '/tmp/platform-engines/engines.env');
  const suffix = Math.random().toString(16).slice(2, 8);
  const echoName = `bench-echo-${suffix}`;
  const gatewayName = `gateway-bench-${suffix}`;
  const base = { ETCD_ENDPOINTS: engines.ETCD_ENDPOINTS, REDIS_CLUSTER_NODES: engines.REDIS_CLUSTER_NODES, HOST: '127.0.0.1' };

  // Upstream: the echo service (its /ping answers "pong").
  const upstreamPort = await freePort();
  await start('upstream', process.execPath, [join(SERVICES, 'dist/main.js')], { ...base, SERVICE: 'echo', ECHO_NAME: echoName, PORT: String(upstreamPort), LOG_LEVEL: 'warn' }, null);
  await waitHttp(`http://127.0.0.1:${upstreamPort}/ping`);

  // Gateway: JWT (RS256 public key), Redis Cluster rate limit (high limits: counted, never hit), registry routing.
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = JSON.stringify({ ...(await exportJWK(publicKey)), alg: 'RS256' });
  const token = await new SignJWT({ sub: 'bench-user', roles: ['customer'] }).setProtectedHeader({ alg: 'RS256' }).setIssuer('bench').setAudience('platform-api').setExpirationTime('1h').sign(privateKey);
  execFileSync('etcdctl', ['--endpoints', engines.ETCD_ENDPOINTS, 'put', `/registry/config/${gatewayName}/rate-limits`, JSON.stringify({ ip: { limit: 1e9, windowSeconds: 60 }, user: { limit: 1e9, windowSeconds: 60 } })], { stdio: 'ignore' });
  const gatewayPort = await freePort();
  const gatewayNodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS || '').split(' ').filter(Boolean);
  await start('gateway', process.execPath, [...gatewayNodeArgs, join(SERVICES, 'dist/main.js')], {
    ...base, SERVICE: 'gateway', GATEWAY_NAME: gatewayName, PORT: String(gatewayPort), LOG_LEVEL: ACCESS_LOG ? 'info' : 'warn',
    JWT_PUBLIC_KEY: jwk, JWT_ISSUER: 'bench', JWT_AUDIENCE: 'platform-api', RATE_LIMIT_KEY_PREFIX: `rl-bench-${suffix}`,
  }, null);
  const auth = { authorization: `Bearer ${token}` };
  await waitHttp(`http://127.0.0.1:${gatewayPort}/api/${echoName}/ping`, auth);
  const check = await fetch(`http://127.0.0.1:${gatewayPort}/api/${echoName}/ping`, { headers: auth });
  if (process.env.RATE_LIMIT_ENABLED !== 'false' && !check.headers.get('ratelimit-remaining')) throw new Error('gateway is not rate limiting (no RateLimit headers): is Redis up?');

  // nginx: one worker (the gateway is one Node process), keep-alive to the upstream.
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const nginxPort = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${ACCESS_LOG ? `${dir}/access.log` : 'off'};
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream echo { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${nginxPort};
    location /api/${echoName}/ {
      proxy_pass http://echo/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`);
  await start('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {}, null);
  await waitHttp(`http://127.0.0.1:${nginxPort}/api/${echoName}/ping`);

  console.error(`load: autocannon, ${CONNECTIONS} connections, 2 s warm-up + ${DURATION} s each, loopback, ${require('node:os').cpus().length} cores shared by load generator and servers`);
  const only = process.env.BENCH_ONLY || 'abc';
  const skipped = { rps: NaN, p50: NaN, p99: NaN, total: 0, failed: 0 };
  const a = only.includes('a') ? await load('a upstream direct', `http://127.0.0.1:${upstreamPort}/ping`, {}) : { ...skipped, label: 'a (skipped)' };
  const b = only.includes('b') ? await load('b gateway (JWT + rate limit + registry)', `http://127.0.0.1:${gatewayPort}/api/${echoName}/ping`, auth) : { ...skipped, label: 'b (skipped)' };
  const c = only.includes('c') ? await load('c nginx proxy_pass keep-alive', `http://127.0.0.1:${nginxPort}/api/${echoName}/ping`, {}) : { ...skipped, label: 'c (skipped)' };

  const rows = [a, b, c].map((r) => `${r.label.padEnd(42)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   (${r.total} requests, ${r.failed} failed)`);
  console.log(rows.join('\n'));
  console.log(`ratio b/a: ${(b.rps / a.rps).toFixed(2)} req/s, p99 ${(b.p99 / Math.max(a.p99, 1)).toFixed(2)}x`);
  console.log(`ratio b/c: ${(b.rps / c.rps).toFixed(2)} req/s, p99 ${(b.p99 / Math.max(c.p99, 1)).toFixed(2)}x`);
  rmSync(dir, { recursive: true, force: true });
}

function commandExists(cmd) {
  try {
    execFileSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}

main()
  .then(() => {
    stopAll();
    setTimeout(() => process.exit(0), 1500).unref();
  })
  .catch((err) => {
    console.error(err.message);
    stopAll();
    process.exit(1);
  });
