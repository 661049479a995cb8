import { Breaker } from '../../src/kit/breaker';

describe('Breaker', () => {
  let breaker: Breaker | undefined;
  afterEach(() => {
    breaker?.shutdown();
    breaker = undefined;
    jest.useRealTimers();
  });

  function make(events: string[] = [], volumeThreshold = 4): Breaker {
    breaker = new Breaker({
      errorThresholdPercentage: 50, volumeThreshold, resetTimeoutMs: 1000, rollingWindowMs: 10_000,
      onOpen: () => events.push('open'), onClose: () => events.push('close'),
    });
    return breaker;
  }

  function call(b: Breaker, ok: boolean): boolean {
    if (!b.tryAcquire()) return false;
    if (ok) b.success();
    else b.failure();
    return true;
  }

  it('stays closed below the volume threshold, and at a failure rate of exactly the threshold', () => {
    const b = make();
    call(b, false);
    call(b, false);
    call(b, false);
    expect(b.closed).toBe(true); // 3 calls < 4
    const c = make([], 2);
    call(c, true);
    call(c, false);
    expect(c.closed).toBe(true); // 50 % is not above 50 %
    call(c, false);
    expect(c.opened).toBe(true); // 67 %
  });

  it('opens above the threshold, refuses calls, half-opens after the reset time with one probe, and closes on its success', () => {
    jest.useFakeTimers();
    const events: string[] = [];
    const b = make(events);
    for (const ok of [true, false, false, false]) call(b, ok);
    expect(b.opened).toBe(true);
    expect(b.admits()).toBe(false);
    expect(b.tryAcquire()).toBe(false);
    jest.advanceTimersByTime(1000);
    expect(b.halfOpen).toBe(true);
    expect(b.admits()).toBe(true); // the probe not admitted yet
    expect(b.tryAcquire()).toBe(true); // the probe
    expect(b.tryAcquire()).toBe(false); // nothing else while it is out
    expect(b.admits()).toBe(false);
    b.success();
    expect(b.closed).toBe(true);
    expect(events).toEqual(['open', 'close']);
  });

  it('opens again when the probe fails', () => {
    jest.useFakeTimers();
    const b = make();
    for (const ok of [false, false, false, false]) call(b, ok);
    jest.advanceTimersByTime(1000);
    expect(call(b, false)).toBe(true);
    expect(b.opened).toBe(true);
    jest.advanceTimersByTime(999);
    expect(b.admits()).toBe(false);
    jest.advanceTimersByTime(1);
    expect(b.admits()).toBe(true);
  });

  it('forgets calls older than the rolling window', () => {
    jest.useFakeTimers();
    const b = make();
    for (const ok of [false, false, false]) call(b, ok);
    jest.advanceTimersByTime(10_000); // ten buckets later: the window is empty
    for (const ok of [true, true, true, false]) call(b, ok);
    expect(b.closed).toBe(true); // 1 failure in 4, not 4 in 7
  });
});
