import type { Logger } from 'pino';

/** Settings of {@link GracefulShutdown}. */
export interface ShutdownSettings {
  /** Revokes the registry lease (step 1). */
  readonly deregister: () => Promise<void>;
  /** Makes readiness fail (step 2). */
  readonly markNotReady: () => void;
  /** In-flight requests now (step 4 waits for 0). */
  readonly inflight: () => number;
  /** Stops accepting and closes connections (step 5). */
  readonly closeServer: () => Promise<void>;
  /** Time after deregistering for watchers to drop this instance, ms. @default 1000 */
  readonly graceMs?: number;
  /** Upper bound on waiting for in-flight requests, ms. @default 10000 */
  readonly drainMs?: number;
  /** @default silent */
  readonly logger?: Logger;
}

/**
 * Shutdown in the order that loses no request: (1) revoke the lease, so gateways stop routing here
 * at once; (2) readiness fails, so Kubernetes and the ALB stop too; (3) a short grace period for
 * those watchers; (4) wait for in-flight requests, bounded; (5) close the server and its
 * connections; (6) close clients (registered with {@link onClose}, run last-added first); then the
 * caller exits 0.
 */
export class GracefulShutdown {
  private readonly closers: Array<{ name: string; close: () => Promise<unknown> | unknown }> = [];
  private running?: Promise<void>;

  constructor(private readonly settings: ShutdownSettings) {}

  /** Adds a resource to close after the server (database pools, Redis, the registry). */
  onClose(name: string, close: () => Promise<unknown> | unknown): this {
    this.closers.push({ name, close });
    return this;
  }

  /** Runs the shutdown once; later calls return the same promise. */
  run(reason = 'shutdown'): Promise<void> {
    this.running ??= this.steps(reason);
    return this.running;
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Runs {@link run} on SIGTERM / SIGINT, then exits 0 (1 if a step threw). */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.run(signal).then(
        () => exit(0),
        (err) => {
          this.settings.logger?.error({ err }, 'shutdown failed');
          exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  private async steps(reason: string): Promise<void> {
    const { logger: log, graceMs = 1000, drainMs = 10_000 } = this.settings;
    const started = Date.now();
    log?.info({ reason }, 'shutting down: revoking registry lease');
    await this.settings.deregister().catch((err) => log?.warn({ err: (err as Error).message }, 'deregister failed'));
    this.settings.markNotReady();
    await sleep(graceMs);
    const deadline = Date.now() + drainMs;
    while (this.settings.inflight() > 0 && Date.now() < deadline) await sleep(25);
    const left = this.settings.inflight();
    if (left > 0) log?.warn({ inflight: left }, 'drain timed out, closing with requests in flight');
    await this.settings.closeServer();
    for (const { name, close } of [...this.closers].reverse()) {
      try {
        await close();
      } catch (err) {
        log?.warn({ err: (err as Error).message, resource: name }, 'close failed');
      }
    }
    log?.info({ ms: Date.now() - started }, 'shutdown complete');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
