/**
 * `SERVICE=loadgen`: the smoke journey in a loop at LOADGEN_RATE journeys/s (at most
 * LOADGEN_CONCURRENCY in flight), with its own Prometheus metrics on PORT at /metrics (the same
 * path the services expose) and /healthz. Stops on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { loadConfig } from '../kit/config';
import { LATENCY_BUCKETS } from '../kit/metrics';
import { loadgenEnv } from './env';
import { runJourney } from './journey';

export async function start(source: NodeJS.ProcessEnv = process.env): Promise<void> {
  const c = loadConfig(loadgenEnv, source);
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'loadgen' });
  collectDefaultMetrics({ register: registry });
  const journeys = new Counter({ name: 'loadgen_journeys_total', help: 'Journeys run, by outcome', labelNames: ['outcome'], registers: [registry] });
  const steps = new Counter({ name: 'loadgen_steps_total', help: 'Journey steps, by step and outcome', labelNames: ['step', 'outcome'], registers: [registry] });
  const latency = new Histogram({ name: 'loadgen_step_duration_seconds', help: 'Duration of each journey step', labelNames: ['step'], buckets: LATENCY_BUCKETS, registers: [registry] });

  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz' || req.url === '/readyz') {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
    } else {
      res.statusCode = 404;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: 'not_found', message: `${req.url} is not served here`, requestId: randomUUID() }));
    }
  });
  await new Promise<void>((r) => server.listen(c.PORT, c.HOST, r));
  const { port } = server.address() as import('node:net').AddressInfo;
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'loadgen started', url: `http://${c.HOST}:${port}`, rate: c.LOADGEN_RATE, concurrency: c.LOADGEN_CONCURRENCY })}\n`);

  let inflight = 0;
  let stopping = false;
  const settings = { baseUrl: c.SMOKE_BASE_URL, email: c.SMOKE_EMAIL, password: c.SMOKE_PASSWORD, checkout: c.SMOKE_CHECKOUT, stepBudgetMs: c.SMOKE_STEP_BUDGET_MS };
  const once = async () => {
    inflight++;
    try {
      const r = await runJourney(settings);
      journeys.inc({ outcome: r.ok ? 'ok' : 'failed' });
      for (const s of r.steps) {
        steps.inc({ step: s.step, outcome: s.skipped ? 'skipped' : s.ok ? 'ok' : 'failed' });
        if (!s.skipped) latency.observe({ step: s.step }, s.ms / 1000);
      }
    } finally {
      inflight--;
    }
  };
  const timer = setInterval(() => {
    if (!stopping && inflight < c.LOADGEN_CONCURRENCY) void once();
  }, Math.max(1, Math.floor(1000 / c.LOADGEN_RATE)));
  const stop = () => {
    stopping = true;
    clearInterval(timer);
    server.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
