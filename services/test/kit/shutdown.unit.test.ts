import { GracefulShutdown, Health } from '../../src/kit';

describe('GracefulShutdown', () => {
  it('revokes, fails readiness, drains, closes the server, then the clients', async () => {
    const steps: string[] = [];
    const health = new Health();
    let inflight = 2;
    const timer = setInterval(() => {
      inflight = Math.max(0, inflight - 1);
      steps.push(`inflight ${inflight}`);
    }, 40);
    const shutdown = new GracefulShutdown({
      deregister: async () => {
        steps.push('deregister');
      },
      markNotReady: () => {
        health.startShutdown();
        steps.push('not ready');
      },
      inflight: () => inflight,
      closeServer: async () => {
        steps.push('close server');
      },
      graceMs: 10,
      drainMs: 1000,
    });
    shutdown.onClose('redis', () => steps.push('close redis'));
    shutdown.onClose('registry', () => steps.push('close registry'));
    await Promise.all([shutdown.run('SIGTERM'), shutdown.run('again')]);
    clearInterval(timer);
    const closeAt = steps.indexOf('close server');
    expect(steps.slice(0, 2)).toEqual(['deregister', 'not ready']);
    expect(steps.indexOf('inflight 0')).toBeLessThan(closeAt);
    expect(steps.slice(closeAt)).toEqual(['close server', 'close registry', 'close redis']);
    expect((await health.readiness()).ready).toBe(false);
  });

  it('bounds the drain', async () => {
    const started = Date.now();
    await new GracefulShutdown({
      deregister: async () => undefined,
      markNotReady: () => undefined,
      inflight: () => 1,
      closeServer: async () => undefined,
      graceMs: 0,
      drainMs: 200,
    }).run();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('Health', () => {
  it('reports failing and slow checks by name', async () => {
    const health = new Health(100)
      .addCheck('ok', () => true)
      .addCheck('down', async () => {
        throw new Error('connect ECONNREFUSED');
      })
      .addCheck('slow', () => new Promise(() => undefined));
    const report = await health.readiness();
    expect(report.ready).toBe(false);
    expect(report.checks).toEqual({ ok: 'ok', down: 'connect ECONNREFUSED', slow: 'timed out after 100 ms' });
  });

  it('reports a non-critical check without failing readiness', async () => {
    const health = new Health(100).addCheck('etcd', () => false, { critical: false }).addCheck('db', () => true);
    expect(await health.readiness()).toEqual({ ready: true, shuttingDown: false, checks: { etcd: 'failed', db: 'ok' } });
  });
});
