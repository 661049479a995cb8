/**
 * `SERVICE=smoke`: one journey through the gateway, a JSON line per step, then one verdict line;
 * exit 0 only if every step passed within its budget. The release gate runs it as a Job.
 */
import { loadConfig } from '../kit/config';
import { smokeEnv } from './env';
import { runJourney, verdict } from './journey';

export async function start(source: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const c = loadConfig(smokeEnv, source);
  const result = await runJourney({
    baseUrl: c.SMOKE_BASE_URL,
    email: c.SMOKE_EMAIL,
    password: c.SMOKE_PASSWORD,
    checkout: c.SMOKE_CHECKOUT,
    stepBudgetMs: c.SMOKE_STEP_BUDGET_MS,
  });
  for (const s of result.steps) process.stdout.write(`${JSON.stringify({ level: s.ok ? 'info' : 'error', msg: 'smoke step', ...s })}\n`);
  process.stdout.write(`${verdict(result)}\n`);
  if (!result.ok) process.exitCode = 1;
  return result.ok;
}
