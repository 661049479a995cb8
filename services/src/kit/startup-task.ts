/** A service's background start-up work (a migration, an index alias): retried until it succeeds, stopped at shutdown. */
import type { ServiceContext } from './service';

/** Runs `work` until it succeeds (backoff up to 5 s), in the background, until shutdown. */
export function startupTask(
  ctx: Pick<ServiceContext, 'log'>,
  name: string,
  work: () => Promise<void>,
): { done: () => boolean; lastError: () => unknown; stop: () => void; finished: Promise<void> } {
  let done = false;
  let stopped = false;
  let lastError: unknown;
  const finished = (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await work();
        done = true;
        return;
      } catch (err) {
        lastError = err;
        ctx.log.warn({ err: (err as Error).message, attempt }, `${name} failed; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)).unref());
      }
    }
  })();
  return { done: () => done, lastError: () => lastError, stop: () => (stopped = true), finished };
}
