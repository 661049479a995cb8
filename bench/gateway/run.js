#!/usr/bin/env node
// Gateway load benchmark, loopback only: (a) the upstream directly, (b) through the gateway with
// JWT + Redis rate limit + registry routing + metrics, (c) through nginx proxy_pass with upstream
// keep-alive, (d) through the same gateway with JWT, rate limits and per-request metrics off (a bare
// Node proxy: what b costs beyond it is what the features cost). Then latency at a fixed rate (half
// of b's maximum): p50 and p99 of a and b, and what the gateway adds.
// Prints req/s, p50 and p99 of each (median of interleaved rounds), server CPU per request and the
// ratios against the goals of issue 12, all from one run.
// Usage: npm run bench --prefix services   (builds services/dist first)
// Knobs: BENCH_DURATION (s per load, default 8), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 50), BENCH_ACCESS_LOG=1 (log every request in both proxies),
// BENCH_GATEWAY_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", for b and d), BENCH_ONLY (e.g. "bd": run only those loads;
// "abcdf" adds f, a bare node:http + undici proxy (floor-proxy.js): the floor of a Node proxy; "g" the same behind a bare fastify),
// BENCH_FLOOR_NODE_ARGS (the same for f and g), BENCH_E_NODE_ARGS (with "e" in BENCH_ONLY: the gateway b once more under these flags),
// BENCH_E_MAIN (e runs this main.js instead: another build of the services, for an A/B of code),
// BENCH_FIXED_DURATION (s per fixed-rate load, default 8; 0 skips the fixed-rate part), BENCH_FIXED_RATE (req/s, default half of b's),
// BENCH_FIXED_WARMUP (s at that rate before each fixed-rate round, on the same connections, not counted; default 2),
// BENCH_WARMUP (s of load per target once before the rounds, default 5),
// BENCH_TRACING=1: also (t) a second gateway with tracing on (OTLP to the local collector, `scripts/engines.sh up otel`),
// sampling BENCH_TRACING_RATIO of its requests (default 1: every one, the worst case), and the cost t - b per request.
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

const DURATION = Number(process.env.BENCH_DURATION || 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 50);
const ACCESS_LOG = process.env.BENCH_ACCESS_LOG === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const FIXED_DURATION = Number(process.env.BENCH_FIXED_DURATION ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
// Seconds at the fixed rate before each round's measurement, same connections, not counted.
const FIXED_WARMUP = Number(process.env.BENCH_FIXED_WARMUP ?? 2);
const { Pool } = need('undici');
const TRACING = process.env.BENCH_TRACING === '1';
const TRACING_RATIO = process.env.BENCH_TRACING_RATIO || '1';
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

/** CPU seconds a process and its children-by-pid used so far, from /proc: [user + system, system alone]. */
function cpuSeconds(pids) {
  let user = 0;
  let system = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      user += Number(f[11]);
      system += Number(f[12]);
    } catch {}
  }
  return [(user + system) / 100, system / 100];
}

/** Node flags from an environment variable, space-separated (none when unset). */
function flagsFrom(name) {
  return (process.env[name] || '').split(' ').filter(Boolean);
}

function childPids(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
  if (env.LOOP_PROBE_FILE) {
    // With BENCH_PROBE the server's own output (e.g. --trace-gc) goes to <dir>/<key>.log.out.
    const out = require('node:fs').createWriteStream(`${env.LOOP_PROBE_FILE}.out`);
    child.stdout.pipe(out);
    child.stderr.pipe(out);
  }
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

async function load(label, url, headers, pids) {
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers }); // warm-up
  const [cpu0, sys0] = cpuSeconds(pids);
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers });
  const [cpu1, sys1] = cpuSeconds(pids);
  const failed = r.errors + r.timeouts + r.non2xx;
  // CPU per request of the server under test: steadier than req/s on a shared machine. The kernel's
  // part (system calls, the loopback's delivery to the peer, wake-ups) apart: the same work for nginx.
  const per = (seconds) => (r.requests.total ? (seconds * 1e6) / r.requests.total : NaN);
  return { label, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, failed, cpuUs: per(cpu1 - cpu0), sysUs: per(sys1 - sys0) };
}

/**
 * Open-loop load at a fixed rate: requests leave on schedule whatever the answers do (up to
 * `connections` at once, then the pool queues them), each timed from when it was sent to the end
 * of its body. Percentiles in ms (autocannon's histogram has 1 ms steps: too coarse here). The
 * first `warmupSeconds` run at the same rate on the same connections and are not counted: the
 * server, idle while the other targets were measured, first regrows its young generation (V8
 * shrinks it when idle; its scavenges and a mark-compact then hit the first second or two).
 */
async function fixedRate(url, headers, rate, seconds, connections = 32, slowLog = undefined, warmupSeconds = 0) {
  const { origin, pathname, search } = new URL(url);
  const pool = new Pool(origin, { connections });
  const latencies = [];
  let failed = 0;
  let sent = 0;
  const skip = Math.floor(rate * warmupSeconds);
  const total = skip + Math.floor(rate * seconds);
  const pending = [];
  const slow = [];
  const started = performance.now();
  let measuredFrom = started;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const counted = sent >= skip;
      if (sent === skip) measuredFrom = performance.now();
      const t0 = performance.now();
      pending.push(
        pool.request({ method: 'GET', path: pathname + search, headers }).then(
          async (res) => {
            await res.body.dump();
            if (!counted) return;
            if (res.statusCode === 200) {
              const ms = performance.now() - t0;
              latencies.push(ms);
              if (slowLog && ms > 2) slow.push(`${(performance.timeOrigin + t0).toFixed(1)} ${ms.toFixed(2)}`);
            } else failed++;
          },
          () => counted && failed++,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - measuredFrom) / 1000;
  await pool.close();
  if (slowLog) writeFileSync(slowLog, slow.join('\n') + '\n');
  latencies.sort((p, q) => p - q);
  const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), failed };
}

async function main() {
  if (!existsSync(join(SERVICES, 'dist/main.js'))) throw new Error('services/dist/main.js missing: run `npm run build --prefix services`');
  if (!commandExists('nginx')) {
    console.error('installing nginx (Debian package)…');
    execFileSync('bash', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx'], { stdio: 'inherit' });
  }
  execFileSync('bash', [join(ROOT, 'scripts/engines.sh'), 'up', 'etcd', 'redis', ...(TRACING ? ['otel'] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
  const engines = loadEnvFile(process.env.ENGINES_ENV_FILE || '/tmp/platform-engines/engines.env');
  const suffix = Math.random().toString(16).slice(2, 8);
  const echoName = `bench-echo-${suffix}`;
  const gatewayName = `gateway-bench-${suffix}`;
  const base = { ETCD_ENDPOINTS: engines.ETCD_ENDPOINTS, REDIS_CLUSTER_NODES: engines.REDIS_CLUSTER_NODES, HOST: '127.0.0.1' };

  // BENCH_PROBE=<dir>: loop-probe.js in the upstream, gateways and floor, one log per target (<dir>/<key>.log).
  const PROBE = process.env.BENCH_PROBE;
  const probe = (key) => (PROBE ? { args: ['--require', join(__dirname, 'loop-probe.js')], env: { LOOP_PROBE_FILE: join(PROBE, `${key}.log`) } } : { args: [], env: {} });
  // Upstream: the echo service (its /ping answers "pong").
  const upstreamPort = await freePort();
  const upstream = await start('upstream', process.execPath, [...probe('a').args, join(SERVICES, 'dist/main.js')], { ...base, SERVICE: 'echo', ECHO_NAME: echoName, PORT: String(upstreamPort), LOG_LEVEL: 'warn', ...probe('a').env }, null);
  await waitHttp(`http://127.0.0.1:${upstreamPort}/ping`);

  // b: JWT (RS256 public key), Redis Cluster rate limit (high limits: counted, never hit), registry routing, metrics.
  // d: the same gateway with every path public (no token sent: nothing to verify), rate limits and per-request metrics off.
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = JSON.stringify({ ...(await exportJWK(publicKey)), alg: 'RS256' });
  const token = await new SignJWT({ sub: 'bench-user', roles: ['customer'] }).setProtectedHeader({ alg: 'RS256' }).setIssuer('bench').setAudience('platform-api').setExpirationTime('1h').sign(privateKey);
  const etcdPut = (key, value) => execFileSync('etcdctl', ['--endpoints', engines.ETCD_ENDPOINTS, 'put', key, JSON.stringify(value)], { stdio: 'ignore' });
  etcdPut(`/registry/config/${gatewayName}/rate-limits`, { ip: { limit: 1e9, windowSeconds: 60 }, user: { limit: 1e9, windowSeconds: 60 } });
  etcdPut(`/registry/config/${gatewayName}-bare/public-paths`, ['/api/**']);
  const gatewayNodeArgs = flagsFrom('BENCH_GATEWAY_NODE_ARGS');
  const auth = { authorization: `Bearer ${token}` };
  const startGateway = async (name, env, headers = auth, key = 'b', nodeArgs = gatewayNodeArgs, main = join(SERVICES, 'dist/main.js')) => {
    const port = await freePort();
    const gw = await start(name, process.execPath, [...nodeArgs, ...probe(key).args, main], {
      ...probe(key).env,
      ...base, SERVICE: 'gateway', GATEWAY_NAME: name, PORT: String(port), LOG_LEVEL: ACCESS_LOG ? 'info' : 'warn',
      JWT_PUBLIC_KEY: jwk, JWT_ISSUER: 'bench', JWT_AUDIENCE: 'platform-api', RATE_LIMIT_KEY_PREFIX: `rl-bench-${suffix}`, ...env,
    }, null);
    await waitHttp(`http://127.0.0.1:${port}/api/${echoName}/ping`, headers);
    return { child: gw.child, port };
  };
  const gateway = await startGateway(gatewayName, {});
  const bare = await startGateway(`${gatewayName}-bare`, { RATE_LIMIT_ENABLED: 'false', REQUEST_METRICS: 'false' }, {}, 'd');
  // t: the same gateway as b with tracing on, exporting to the local collector (the upstream stays untraced).
  const traced = TRACING
    ? await startGateway(gatewayName, {
      OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: engines.TRACES_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: TRACING_RATIO,
    }, auth, 't')
    : undefined;
  // e (only with BENCH_ONLY naming it): the gateway b under other V8/Node flags (BENCH_E_NODE_ARGS), for an A/B of runtime flags within one run.
  const E_NODE_ARGS = flagsFrom('BENCH_E_NODE_ARGS');
  const only = process.env.BENCH_ONLY || (TRACING ? 'abcdt' : 'abcd');
  // BENCH_E_MAIN: e runs another build of the services (e.g. the code before a change, built apart) for an A/B of code.
  const E_MAIN = process.env.BENCH_E_MAIN ? resolve(process.env.BENCH_E_MAIN) : join(SERVICES, 'dist/main.js');
  const flagged = only.includes('e') ? await startGateway(gatewayName, {}, auth, 'e', E_NODE_ARGS, E_MAIN) : undefined;
  const check = await fetch(`http://127.0.0.1:${gateway.port}/api/${echoName}/ping`, { headers: auth });
  if (!check.headers.get('ratelimit-remaining')) throw new Error('gateway b is not rate limiting (no RateLimit headers): is Redis up?');
  const checkBare = await fetch(`http://127.0.0.1:${bare.port}/api/${echoName}/ping`);
  if (checkBare.headers.get('ratelimit-remaining')) throw new Error('gateway d is rate limiting');

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
  const nginx = await start('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {}, null);
  await waitHttp(`http://127.0.0.1:${nginxPort}/api/${echoName}/ping`);

  // f (only with BENCH_ONLY naming it): the floor of a Node proxy, node:http in and undici out, nothing else.
  // BENCH_FLOOR_NODE_ARGS: node flags for the floors f and g (e.g. a CPU profile to set beside b's and d's).
  const floorNodeArgs = flagsFrom('BENCH_FLOOR_NODE_ARGS');
  const floorPort = await freePort();
  const floor = only.includes('f') ? await start('floor', process.execPath, [...floorNodeArgs, ...probe('f').args, join(__dirname, 'floor-proxy.js'), String(floorPort), `http://127.0.0.1:${upstreamPort}`], probe('f').env, null) : undefined;
  if (floor) await waitHttp(`http://127.0.0.1:${floorPort}/api/${echoName}/ping`);
  // g (only with BENCH_ONLY naming it): the same floor behind a bare fastify, the floor of a fastify gateway.
  const fastifyFloorPort = await freePort();
  const fastifyFloor = only.includes('g') ? await start('fastify floor', process.execPath, [...floorNodeArgs, ...probe('g').args, join(__dirname, 'floor-proxy.js'), String(fastifyFloorPort), `http://127.0.0.1:${upstreamPort}`, 'fastify'], probe('g').env, null) : undefined;
  if (fastifyFloor) await waitHttp(`http://127.0.0.1:${fastifyFloorPort}/api/${echoName}/ping`);

  console.error(`load: autocannon, ${CONNECTIONS} connections, ${WARMUP} s warm-up once, then 2 s warm-up + ${DURATION} s each, loopback, ${require('node:os').cpus().length} cores shared by load generator and servers`);
  // Rounds interleave the targets so a neighbour's burst of CPU use hits them alike; each figure
  // printed is the median of its rounds.
  const gatewayUrl = (port) => `http://127.0.0.1:${port}/api/${echoName}/ping`;
  const targets = [
    { key: 'a', label: 'a upstream direct', url: `http://127.0.0.1:${upstreamPort}/ping`, headers: {}, pids: [upstream.child.pid] },
    { key: 'b', label: 'b gateway, every feature on', url: gatewayUrl(gateway.port), headers: auth, pids: [gateway.child.pid] },
    { key: 'c', label: 'c nginx proxy_pass keep-alive', url: `http://127.0.0.1:${nginxPort}/api/${echoName}/ping`, headers: {}, pids: [nginx.child.pid, ...childPids(nginx.child.pid)] },
    { key: 'd', label: 'd gateway, JWT + limits + metrics off', url: gatewayUrl(bare.port), headers: {}, pids: [bare.child.pid] },
    ...(flagged ? [{ key: 'e', label: (process.env.BENCH_E_MAIN ? `e gateway b from ${process.env.BENCH_E_MAIN}` : `e gateway b, node ${E_NODE_ARGS.join(' ') || '(no flags)'}`).slice(0, 42), url: gatewayUrl(flagged.port), headers: auth, pids: [flagged.child.pid] }] : []),
    { key: 'f', label: 'f floor: node:http + undici, nothing else', url: `http://127.0.0.1:${floorPort}/api/${echoName}/ping`, headers: {}, pids: floor ? [floor.child.pid] : [] },
    { key: 'g', label: 'g floor behind a bare fastify', url: `http://127.0.0.1:${fastifyFloorPort}/api/${echoName}/ping`, headers: {}, pids: fastifyFloor ? [fastifyFloor.child.pid] : [] },
    ...(traced ? [{ key: 't', label: `t gateway, tracing on (ratio ${TRACING_RATIO})`, url: `http://127.0.0.1:${traced.port}/api/${echoName}/ping`, headers: auth, pids: [traced.child.pid] }] : []),
  ].filter((t) => only.includes(t.key));
  // Once, before the rounds: the Node servers' code reaches V8's optimizing tier only after a few
  // seconds of load, and a first round without it measured the compiler, not the gateway.
  for (const t of targets) await autocannon({ url: t.url, connections: CONNECTIONS, duration: WARMUP, headers: t.headers });
  const runs = Object.fromEntries(targets.map((t) => [t.key, []]));
  // BENCH_DURATION=0: no saturation rounds, only the fixed rate (BENCH_FIXED_RATE then required).
  for (let round = 1; DURATION > 0 && round <= ROUNDS; round++) {
    for (const t of targets) {
      const r = await load(t.label, t.url, t.headers, t.pids);
      runs[t.key].push(r);
      console.error(`  round ${round} ${t.key}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUs.toFixed(0)} µs CPU/request (${r.sysUs.toFixed(0)} in the kernel)`);
    }
  }
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
  const summary = {};
  for (const t of targets) {
    const rs = runs[t.key];
    if (!rs.length) continue;
    summary[t.key] = { label: t.label, rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuUs: median(rs.map((r) => r.cpuUs)), sysUs: median(rs.map((r) => r.sysUs)), total: rs.reduce((n, r) => n + r.total, 0), failed: rs.reduce((n, r) => n + r.failed, 0) };
  }

  // Latency at a fixed rate, half of b's maximum: what a client sees when the gateway is not saturated.
  const fixed = {};
  // BENCH_FIXED_TARGETS (default "ab"): the pair compared at the fixed rate, e.g. "af" for the floor's own latency.
  // More than two ("adf"): the first is the base, each other one is compared with it.
  const [fixedBase, ...fixedProxies] = (process.env.BENCH_FIXED_TARGETS || 'ab').split('');
  const fixedTargets = [fixedBase, ...fixedProxies].map((k) => targets.find((t) => t.key === k)).filter(Boolean);
  const rate = Number(process.env.BENCH_FIXED_RATE) || Math.round((summary.b?.rps ?? 0) / 2);
  if (FIXED_DURATION > 0 && rate > 0 && fixedTargets.length >= 2) {
    console.error(`fixed rate: ${rate} req/s, ${FIXED_WARMUP} s (not counted) + ${FIXED_DURATION} s each, latency from send to the end of the body`);
    const rounds = Object.fromEntries(fixedTargets.map((t) => [t.key, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const t of fixedTargets) {
        // With BENCH_PROBE, every request slower than 2 ms (`<epoch ms sent> <ms>`) to <dir>/<key>-<round>.slow.
        const r = await fixedRate(t.url, t.headers, rate, FIXED_DURATION, 32, PROBE ? join(PROBE, `${t.key}-${round}.slow`) : undefined, FIXED_WARMUP);
        rounds[t.key].push(r);
        console.error(`  round ${round} ${t.key}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.failed} failed (until ${new Date().toISOString()})`);
      }
    }
    for (const [key, rs] of Object.entries(rounds)) fixed[key] = { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), failed: rs.reduce((n, r) => n + r.failed, 0) };
    fixed.rate = rate;
  }

  console.log(`gateway bench: Node ${process.version}, ${CONNECTIONS} connections, ${ROUNDS} rounds x ${DURATION} s per target, medians`);
  for (const r of Object.values(summary)) {
    console.log(`${r.label.padEnd(42)} ${r.rps.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   ${r.cpuUs.toFixed(0).padStart(4)} µs CPU/req (kernel ${r.sysUs.toFixed(0).padStart(3)})   (${r.total} requests, ${r.failed} failed)`);
  }
  const { a, b, c, d, f, g, t } = summary;
  const x = (v, digits = 2) => v.toFixed(digits);
  if (a && b) console.log(`ratio b/a: ${x(b.rps / a.rps)} req/s, p99 ${x(b.p99 / Math.max(a.p99, 1))}x`);
  if (b && c) console.log(`ratio b/c: ${x(b.rps / c.rps)} req/s (goal >= 0.5), CPU/request ${x(b.cpuUs / c.cpuUs, 1)}x (goal <= 3), p99 ${x(b.p99 / Math.max(c.p99, 1))}x`);
  if (f && c) console.log(`ratio f/c: ${x(f.rps / c.rps)} req/s, CPU/request ${x(f.cpuUs / c.cpuUs, 1)}x: the floor of a Node proxy against nginx`);
  if (g && c) console.log(`ratio g/c: ${x(g.rps / c.rps)} req/s, CPU/request ${x(g.cpuUs / c.cpuUs, 1)}x: the floor of a fastify proxy against nginx`);
  if (b && d) console.log(`ratio b/d: ${x(b.rps / d.rps)} req/s, CPU/request ${x(b.cpuUs / d.cpuUs)}x: the features cost ${x(100 * (1 - b.rps / d.rps), 0)} % of d's req/s (goal <= 30 %)`);
  if (fixed.rate) {
    console.log(`fixed rate ${fixed.rate} req/s (${process.env.BENCH_FIXED_RATE ? 'BENCH_FIXED_RATE' : "half of b's maximum"}), ${ROUNDS} rounds x ${FIXED_DURATION} s, medians:`);
    for (const t of fixedTargets) console.log(`  ${t.label.padEnd(42)} p50 ${x(fixed[t.key].p50)} ms   p99 ${x(fixed[t.key].p99)} ms   (${fixed[t.key].failed} failed)`);
    for (const k of fixedProxies) console.log(`  added by ${k} over ${fixedBase}: p50 ${x(fixed[k].p50 - fixed[fixedBase].p50)} ms (goal <= 1), p99 ${x(fixed[k].p99 - fixed[fixedBase].p99)} ms (goal <= 3)`);
  }
  if (b && t) console.log(`tracing cost t - b: ${(t.cpuUs - b.cpuUs).toFixed(0)} µs CPU/request (${((t.cpuUs / b.cpuUs - 1) * 100).toFixed(0)} %), req/s ratio t/b ${(t.rps / b.rps).toFixed(2)}, p99 ${t.p99 - b.p99} ms`);
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
