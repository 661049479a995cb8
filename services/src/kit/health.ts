/** A readiness check: resolves true (or void) when the dependency is reachable. */
export type ReadinessCheck = () => Promise<boolean | void> | boolean | void;

/** Result of {@link Health.readiness}. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly shuttingDown: boolean;
  readonly checks: Record<string, 'ok' | string>;
}

/**
 * Liveness and readiness state. `/healthz` only says the process serves; `/readyz` says it
 * should receive traffic: not shutting down and every registered dependency check passes
 * within `timeoutMs`.
 */
export class Health {
  private readonly checks = new Map<string, { check: ReadinessCheck; critical: boolean }>();
  private draining = false;

  constructor(private readonly timeoutMs = 1000) {}

  /**
   * Adds (or replaces) a named readiness check. A non-critical one is reported in `/readyz` but
   * does not make the instance unready (a dependency whose outage the instance rides out).
   */
  addCheck(name: string, check: ReadinessCheck, options: { critical?: boolean } = {}): this {
    this.checks.set(name, { check, critical: options.critical ?? true });
    return this;
  }

  /** Marks the instance as shutting down: readiness fails from now on. */
  startShutdown(): void {
    this.draining = true;
  }

  get shuttingDown(): boolean {
    return this.draining;
  }

  async readiness(): Promise<ReadinessReport> {
    const results: Record<string, string> = {};
    await Promise.all(
      [...this.checks].map(async ([name, { check }]) => {
        results[name] = await runCheck(check, this.timeoutMs);
      }),
    );
    const ok = [...this.checks].every(([name, { critical }]) => !critical || results[name] === 'ok');
    return { ready: ok && !this.draining, shuttingDown: this.draining, checks: results };
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`timed out after ${timeoutMs} ms`), timeoutMs);
    });
    const result = Promise.resolve()
      .then(check)
      .then((r) => (r === false ? 'failed' : 'ok'));
    return await Promise.race([result, timeout]);
  } catch (err) {
    return (err as Error).message || 'failed';
  } finally {
    if (timer) clearTimeout(timer);
  }
}
