import { Counter, Histogram, HotPathCounter, HotPathHistogram, LATENCY_BUCKETS, Registry } from '../../src/kit';

// The hot-path metrics must read on /metrics exactly like prom-client's, which dashboards and
// alerts were written against.
describe('hot-path metrics', () => {
  function pair() {
    const ours = new Registry();
    const theirs = new Registry();
    for (const r of [ours, theirs]) r.setDefaultLabels({ service: 'svc' });
    const settings = { help: 'Help text.', labelNames: ['route', 'upstream', 'status'] };
    return {
      ours,
      theirs,
      counter: new HotPathCounter({ ...settings, name: 'x_total', registers: [ours] }),
      histogram: new HotPathHistogram({ ...settings, name: 'x_seconds', labelNames: ['route', 'upstream'], registers: [ours] }),
      promCounter: new Counter({ ...settings, name: 'x_total', registers: [theirs] }),
      promHistogram: new Histogram({ ...settings, name: 'x_seconds', labelNames: ['route', 'upstream'], buckets: LATENCY_BUCKETS, registers: [theirs] }),
    };
  }

  it('exposes the same text and JSON as prom-client for the same observations', async () => {
    const m = pair();
    const seen: Array<[string, string, string, number]> = [
      ['/api/a', 'a', '200', 0.0004], ['/api/a', 'a', '200', 0.003], ['/api/a', 'a', '503', 0.2],
      ['/api/b', 'b', '200', 12], ['/api/a', 'a', '200', 0.001], ['/api/b', 'b"q', '404', 2.5],
    ];
    for (const [route, upstream, status, seconds] of seen) {
      m.counter.inc(route, upstream, status);
      m.promCounter.inc({ route, upstream, status });
      m.histogram.observe(seconds, route, upstream);
      m.promHistogram.observe({ route, upstream }, seconds);
    }
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    expect(await m.ours.getMetricsAsJSON()).toEqual(await m.theirs.getMetricsAsJSON());
    m.ours.resetMetrics();
    m.theirs.resetMetrics();
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
  });

  it('counts into the right series when labels alternate and repeat, and after a reset', async () => {
    const m = pair();
    const seen: Array<[string, string, string]> = [
      ['/api/a', 'a', '200'], ['/api/a', 'a', '200'], ['/api/a', 'a', '500'], ['/api/a', 'a', '200'],
      ['/api/a', 'b', '200'], ['/api/b', 'a', '200'], ['/api/a', 'a', '200'],
    ];
    const feed = (rows: typeof seen) => {
      for (const [route, upstream, status] of rows) {
        m.counter.inc(route, upstream, `${status}`); // a new string each time, as String(statusCode) is
        m.promCounter.inc({ route, upstream, status });
      }
    };
    feed(seen);
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    m.ours.resetMetrics();
    m.theirs.resetMetrics();
    feed(seen.slice(-1)); // the series cached last before the reset must not be counted into
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
  });

  it('refuses more than three labels', () => {
    expect(() => new HotPathCounter({ name: 'y_total', help: 'h', labelNames: ['a', 'b', 'c', 'd'], registers: [] })).toThrow('at most three labels');
  });
});
