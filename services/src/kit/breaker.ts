/** Options of {@link Breaker}. */
export interface BreakerOptions {
  /** Failure percentage in the rolling window above which the breaker opens. */
  readonly errorThresholdPercentage: number;
  /** Calls in the window before it may open. */
  readonly volumeThreshold: number;
  /** Time open before one probe is let through, ms. */
  readonly resetTimeoutMs: number;
  /** Rolling statistics window, ms, kept in ten buckets. */
  readonly rollingWindowMs: number;
  readonly onOpen?: () => void;
  readonly onClose?: () => void;
}

const BUCKETS = 10;

/**
 * A circuit breaker with opossum's rules (which the kit used before): calls and failures counted in
 * a rolling window of ten buckets; with at least `volumeThreshold` calls in it, a failure that takes
 * the failure rate above `errorThresholdPercentage` opens the breaker; open, it refuses calls for
 * `resetTimeoutMs`, then half-opens: one probe is admitted, whose success closes it and whose
 * failure opens it again. Unlike opossum it does not wrap the call: the caller asks `tryAcquire()`
 * and reports `success()` or `failure()`, so a call costs no promise, closure or event of its own.
 */
export class Breaker {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  /** Half-open and the probe not admitted yet. */
  private probeFree = false;
  private readonly calls = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);
  private current = 0;
  private readonly rotation: NodeJS.Timeout;
  private resetTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BreakerOptions) {
    this.rotation = setInterval(() => this.rotate(), Math.max(1, Math.floor(options.rollingWindowMs / BUCKETS))).unref();
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get opened(): boolean {
    return this.state === 'open';
  }

  get halfOpen(): boolean {
    return this.state === 'half-open';
  }

  /** Closed, or half-open with its probe not yet admitted. */
  admits(): boolean {
    return this.state === 'closed' || this.probeFree;
  }

  /** Admits one call (counted in the window), or false when open or the probe is out. */
  tryAcquire(): boolean {
    if (this.state !== 'closed') {
      if (!this.probeFree) return false;
      this.probeFree = false;
    }
    this.calls[this.current] += 1;
    return true;
  }

  success(): void {
    if (this.state === 'half-open') this.close();
  }

  failure(): void {
    this.failures[this.current] += 1;
    if (this.state === 'half-open') {
      this.open();
      return;
    }
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      calls += this.calls[i];
      failures += this.failures[i];
    }
    if (calls < this.options.volumeThreshold) return;
    if ((failures / calls) * 100 > this.options.errorThresholdPercentage) this.open();
  }

  /** Stops its timers (the instance left discovery, or the client closed). */
  shutdown(): void {
    clearInterval(this.rotation);
    clearTimeout(this.resetTimer);
  }

  private open(): void {
    if (this.state === 'open') return;
    this.state = 'open';
    this.probeFree = false;
    clearTimeout(this.resetTimer);
    this.resetTimer = setTimeout(() => {
      this.state = 'half-open';
      this.probeFree = true;
    }, this.options.resetTimeoutMs).unref();
    this.options.onOpen?.();
  }

  private close(): void {
    this.state = 'closed';
    this.probeFree = false;
    clearTimeout(this.resetTimer);
    this.options.onClose?.();
  }

  private rotate(): void {
    this.current = (this.current + 1) % BUCKETS;
    this.calls[this.current] = 0;
    this.failures[this.current] = 0;
  }
}
