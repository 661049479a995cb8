import {
  BreakerOpenError, DEPENDENCY_UNAVAILABLE_HEADER, NoInstanceError, ServiceClient, type ServiceInstance,
} from '../../src/kit';
import { undiciTimeout } from '../../src/kit/service-client';
import { deadPort, instanceOf, json, sleep, startServer, type TestServer } from '../support/http';

describe('ServiceClient', () => {
  const servers: TestServer[] = [];
  let client: ServiceClient | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function named(id: string, handler?: TestServer['handler']): Promise<TestServer> {
    const s = await startServer(handler ?? ((_req, res) => json(res, 200, { id })));
    servers.push(s);
    return s;
  }

  async function ids(service: string, n: number, method = 'GET'): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await client!.json<{ id: string }>(service, { path: '/', method })).id);
    return out;
  }

  it('round-robins across instances', async () => {
    const [a, b] = [await named('a'), await named('b')];
    const table = [instanceOf('svc', 'a', a.port), instanceOf('svc', 'b', b.port)];
    client = new ServiceClient({ discovery: { instances: () => table } });
    const got = await ids('svc', 6);
    expect(got.filter((x) => x === 'a')).toHaveLength(3);
    expect(got.filter((x) => x === 'b')).toHaveLength(3);
    expect(got[0]).not.toBe(got[1]);
  });

  it('spreads by weight with smooth weighted round-robin', async () => {
    const [a, b] = [await named('a'), await named('b')];
    const table = [instanceOf('svc', 'a', a.port, 3), instanceOf('svc', 'b', b.port, 1)];
    client = new ServiceClient({ discovery: { instances: () => table }, balancer: 'weighted' });
    const got = await ids('svc', 8);
    expect(got.filter((x) => x === 'a')).toHaveLength(6);
    expect(got.filter((x) => x === 'b')).toHaveLength(2);
  });

  it('prefers the instance with the fewest outstanding requests', async () => {
    const slow = await named('slow', (_req, res) => setTimeout(() => json(res, 200, { id: 'slow' }), 300));
    const fast = await named('fast');
    const table = [instanceOf('svc', 'slow', slow.port), instanceOf('svc', 'fast', fast.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, balancer: 'least-outstanding' });
    const pending = [client.json('svc', { path: '/' }), client.json('svc', { path: '/' })];
    await sleep(50);
    // One call sits on slow; every new call while it is outstanding goes to fast.
    const got = await ids('svc', 4);
    await Promise.all(pending);
    expect(got.filter((x) => x === 'fast').length).toBeGreaterThanOrEqual(3);
  });

  it('retries a failed GET on another instance, but not a POST', async () => {
    const bad = await named('bad', (_req, res) => json(res, 503, { id: 'bad' }));
    const good = await named('good');
    const table = [instanceOf('svc', 'bad', bad.port), instanceOf('svc', 'good', good.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, breaker: { volumeThreshold: 100 } });
    for (let i = 0; i < 4; i++) {
      const res = await client.request('svc', { path: '/' });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(bad.hits.length).toBeGreaterThan(0);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await client.request('svc', { path: '/', method: 'POST', body: '{}' });
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    // POST answered by bad once or twice out of four, and never re-sent.
    expect(statuses.filter((s) => s === 503)).toHaveLength(2);
    expect(bad.hits.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('retries a refused connection on another instance', async () => {
    const good = await named('good');
    const table = [instanceOf('svc', 'dead', await deadPort()), instanceOf('svc', 'good', good.port)];
    client = new ServiceClient({ discovery: { instances: () => table } });
    expect(await ids('svc', 4)).toEqual(['good', 'good', 'good', 'good']);
  });

  it('sends a POST that was refused to another instance, and ejects the one that refused', async () => {
    const good = await named('good');
    const table = [instanceOf('svc', 'dead', await deadPort()), instanceOf('svc', 'good', good.port)];
    const outcomes: string[] = [];
    client = new ServiceClient({ discovery: { instances: () => table }, ejectMs: 60_000, onAttempt: (e) => outcomes.push(`${e.instance.id}:${e.outcome}`) });
    expect(await ids('svc', 6, 'POST')).toEqual(['good', 'good', 'good', 'good', 'good', 'good']);
    // Refused once, then left out of the picks: no request pays for it again.
    expect(outcomes.filter((o) => o.startsWith('dead:'))).toEqual(['dead:connect']);
    // Every instance ejected or open: nothing is attempted, the caller gets a BreakerOpenError (503).
    const lonely = new ServiceClient({ discovery: { instances: () => [table[0]] }, ejectMs: 60_000 });
    await expect(lonely.request('svc', { path: '/', method: 'POST' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(lonely.request('svc', { path: '/', method: 'POST' })).rejects.toBeInstanceOf(BreakerOpenError);
    await lonely.close();
  });

  it('retries a POST that carries an Idempotency-Key like a PUT', async () => {
    let calls = 0;
    const flaky = await named('flaky', (_req, res) => (calls++ === 0 ? json(res, 502, {}) : json(res, 200, { id: 'flaky' })));
    const good = await named('good');
    const table = [instanceOf('svc', 'flaky', flaky.port), instanceOf('svc', 'good', good.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, breaker: { volumeThreshold: 100 } });
    const keyed = await client.request('svc', { path: '/', method: 'POST', headers: { 'Idempotency-Key': 'k1' } });
    expect(keyed.statusCode).toBe(200);
    expect(keyed.attempts).toBe(2);
    await keyed.body.dump();
  });

  it('passes a dependency 503 on as it is: no retry, no breaker failure', async () => {
    const down = await named('down', (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', [DEPENDENCY_UNAVAILABLE_HEADER]: 'database' });
      res.end('{"error":"service_unavailable"}');
    });
    const other = await named('other', (_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', [DEPENDENCY_UNAVAILABLE_HEADER]: 'database' });
      res.end('{"error":"service_unavailable"}');
    });
    const table = [instanceOf('svc', 'down', down.port), instanceOf('svc', 'other', other.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, breaker: { volumeThreshold: 2 } });
    for (let i = 0; i < 6; i++) {
      const res = await client.request('svc', { path: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.attempts).toBe(1);
      await res.body.dump();
    }
    expect(client.breakerState('svc')).toBe('closed');
  });

  it('bounds the whole call with deadlineMs and answers the last failure when a retry runs out of time', async () => {
    const busy = await named('busy', (_req, res) => setTimeout(() => json(res, 503, { id: 'busy' }), 150));
    const hang = await named('hang', () => undefined);
    const table = [instanceOf('svc', 'busy', busy.port), instanceOf('svc', 'hang', hang.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, timeoutMs: 5000, deadlineMs: 400, breaker: { volumeThreshold: 100 } });
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      const res = await client.request('svc', { path: '/' }).catch((err: Error & { code?: string }) => err);
      const ms = Date.now() - started;
      expect(ms).toBeLessThan(1000);
      // Either the hanging instance went first (timed out at the deadline), or busy's 503 stays the answer.
      if ('statusCode' in res) {
        expect(res.statusCode).toBe(503);
        await res.body.dump();
      } else {
        expect(res.code).toBe('UND_ERR_HEADERS_TIMEOUT');
      }
    }
  });

  it('times an attempt out and retries elsewhere', async () => {
    const hang = await named('hang', () => undefined);
    const good = await named('good');
    const table = [instanceOf('svc', 'hang', hang.port), instanceOf('svc', 'good', good.port)];
    client = new ServiceClient({ discovery: { instances: () => table }, timeoutMs: 200 });
    const started = Date.now();
    expect(await ids('svc', 2)).toEqual(['good', 'good']);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('opens the breaker of a failing instance, half-opens, and closes on recovery', async () => {
    let failing = true;
    const s = await named('only', (_req, res) => (failing ? json(res, 500, {}) : json(res, 200, { id: 'only' })));
    const table = [instanceOf('svc', 'only', s.port)];
    client = new ServiceClient({
      discovery: { instances: () => table },
      retries: 0,
      breaker: { volumeThreshold: 3, resetTimeoutMs: 300 },
    });
    for (let i = 0; i < 3; i++) (await client.request('svc', { path: '/' })).body.dump();
    expect(client.breakerState('svc')).toBe('open');
    const hitsWhenOpen = s.hits.length;
    await expect(client.request('svc', { path: '/' })).rejects.toBeInstanceOf(BreakerOpenError);
    expect(s.hits.length).toBe(hitsWhenOpen);
    failing = false;
    await sleep(400);
    expect(client.breakerState('svc')).toBe('half-open');
    expect(await ids('svc', 1)).toEqual(['only']);
    expect(client.breakerState('svc')).toBe('closed');
  });

  it('calls the fallback when every attempt failed', async () => {
    const table: ServiceInstance[] = [];
    client = new ServiceClient({
      discovery: { instances: () => table },
      fallback: async (service, _req, err) => {
        const { Readable } = await import('node:stream');
        const body = Object.assign(Readable.from([JSON.stringify({ fallback: service, why: err.name })]), {
          dump: async () => undefined,
        });
        return { statusCode: 200, headers: {}, body: body as never, attempts: 0 };
      },
    });
    const res = await client.request('svc', { path: '/' });
    expect(res.statusCode).toBe(200);
    const noFallback = new ServiceClient({ discovery: { instances: () => table } });
    await expect(noFallback.request('svc', { path: '/' })).rejects.toBeInstanceOf(NoInstanceError);
    await noFallback.close();
  });

  it('tries each instance at most once per call, the retries included', async () => {
    const failing = await Promise.all(['x', 'y', 'z'].map((id) => named(id, (_req, res) => json(res, 503, { id }))));
    const table = failing.map((s, i) => instanceOf('svc', ['x', 'y', 'z'][i], s.port));
    client = new ServiceClient({ discovery: { instances: () => table }, retries: 5, breaker: { volumeThreshold: 100 } });
    const res = await client.request('svc', { path: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.attempts).toBe(3);
    await res.body.dump();
    expect(failing.map((s) => s.hits.length)).toEqual([1, 1, 1]);
  });

  it('counts a call outstanding until its body is done, whatever ended the attempt', async () => {
    const ok = await named('ok', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":');
      setTimeout(() => res.end('"ok"}'), 100);
    });
    const bad = await named('bad', (_req, res) => json(res, 500, { id: 'bad' }));
    const hang = await named('hang', () => undefined);
    const [okI, badI, hangI] = [instanceOf('ok', 'ok', ok.port), instanceOf('bad', 'bad', bad.port), instanceOf('hang', 'hang', hang.port)];
    const tables: Record<string, ServiceInstance[]> = { ok: [okI], bad: [badI], hang: [hangI] };
    client = new ServiceClient({ discovery: { instances: (s) => tables[s] ?? [] }, retries: 0, timeoutMs: 100, breaker: { volumeThreshold: 100 } });
    const answered = await client.request('ok', { path: '/' });
    expect(client.outstanding(okI)).toBe(1);
    await answered.body.json();
    expect(client.outstanding(okI)).toBe(0);
    // A failing answer (kept as the caller's answer) holds the instance until its body is dropped.
    const failed = await client.request('bad', { path: '/' });
    expect(failed.statusCode).toBe(500);
    await failed.body.dump();
    expect(client.outstanding(badI)).toBe(0);
    await expect(client.request('hang', { path: '/' })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(client.outstanding(hangI)).toBe(0);
    const caller = new AbortController();
    const aborted = client.request('hang', { path: '/', signal: caller.signal, timeoutMs: 5000 });
    await sleep(50);
    caller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(client.outstanding(hangI)).toBe(0);
  });

  it("gives undici one timeout for headers and body, in whole seconds, the same for every attempt of a timeout", () => {
    expect(undiciTimeout(5000)).toBe(6000);
    expect(undiciTimeout(4999.987)).toBe(6000); // what is left of a 5 s deadline a moment later
    expect(undiciTimeout(1500)).toBe(3000);
    expect(undiciTimeout(200)).toBe(2000);
  });

  it('still bounds a body that stops arriving', async () => {
    const stall = await named('stall', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part');
    });
    client = new ServiceClient({ discovery: { instances: () => [instanceOf('svc', 'stall', stall.port)] }, timeoutMs: 100 });
    const res = await client.request('svc', { path: '/' });
    await expect(res.body.text()).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  it('strips hop-by-hop headers and sends JSON bodies', async () => {
    const s = await named('echo', (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => json(res, 200, { headers: req.headers, body }));
    });
    client = new ServiceClient({ discovery: { instances: () => [instanceOf('svc', 'echo', s.port)] } });
    const got = await client.json<{ headers: Record<string, string>; body: string }>('svc', {
      path: '/',
      method: 'POST',
      headers: { connection: 'upgrade', 'x-request-id': 'r1' },
      json: { a: 1 },
    });
    expect(got.body).toBe('{"a":1}');
    expect(got.headers['x-request-id']).toBe('r1');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers.connection).not.toBe('upgrade');
  });
});
