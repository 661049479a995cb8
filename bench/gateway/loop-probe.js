// Preloaded into a server under load (`node --require bench/gateway/loop-probe.js ...`): every
// second it appends to LOOP_PROBE_FILE (default /tmp/loop-probe-<pid>.log) one line with the event
// loop's delay (p50 / p99 / max, ms, 1 ms resolution) and the GC pauses of that second by kind
// (count, total and longest, ms), and each pause to <file>.gc. Where a proxy's latency tail comes from, without touching it.
'use strict';

const { monitorEventLoopDelay, PerformanceObserver, constants } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');

const file = process.env.LOOP_PROBE_FILE || `/tmp/loop-probe-${process.pid}.log`;
const KINDS = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-cb' };
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gc = {};
// Every GC pause, `<epoch ms> <duration ms> <kind>`, to <file>.gc: to match against the slow requests.
let events = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind);
    const g = (gc[kind] ??= { n: 0, total: 0, max: 0 });
    g.n += 1;
    g.total += e.duration;
    g.max = Math.max(g.max, e.duration);
    events.push(`${(performance.timeOrigin + e.startTime).toFixed(1)} ${e.duration.toFixed(2)} ${kind}`);
  }
}).observe({ entryTypes: ['gc'] });
const ms = (ns) => (ns / 1e6).toFixed(1);
let last = process.cpuUsage();
setInterval(() => {
  const cpu = process.cpuUsage(last);
  last = process.cpuUsage();
  const gcs = Object.entries(gc).map(([k, g]) => `${k} ${g.n}x ${g.total.toFixed(1)}/${g.max.toFixed(1)}`).join(', ');
  appendFileSync(file, `${new Date().toISOString()} cpu ${((cpu.user + cpu.system) / 1e4).toFixed(0)}% delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} gc ${gcs || '-'}\n`);
  if (events.length) appendFileSync(`${file}.gc`, events.join('\n') + '\n');
  delay.reset();
  gc = {};
  events = [];
}, 1000).unref();

// LOOP_PROBE_HEAP=1: sample allocations (collected objects included: what a proxy allocates per
// request dies young) and write them to <file>.heapprofile on each SIGUSR2, then start again.
if (process.env.LOOP_PROBE_HEAP === '1') {
  const { Session } = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const session = new Session();
  session.connect();
  const startSampling = () => session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  session.post('HeapProfiler.enable', startSampling);
  let n = 0;
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (!err) writeFileSync(`${file}.${++n}.heapprofile`, JSON.stringify(res.profile));
      startSampling();
    });
  });
}
