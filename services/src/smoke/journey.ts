/**
 * The smoke journey: what a user does first, through the gateway's URL, each step timed against
 * its budget. Used by the release gate (`SERVICE=smoke`, one run) and the load generator
 * (`SERVICE=loadgen`, in a loop). Leaves nothing behind unless checkout is allowed: the cart is
 * emptied at the end, and the account is the dedicated smoke account.
 */

export interface JourneySettings {
  /** The gateway's URL, e.g. http://gateway.platform.svc:8080 or the public https URL. */
  readonly baseUrl: string;
  readonly email: string;
  readonly password: string;
  /** Also check out one item (takes real stock: never in prod). */
  readonly checkout: boolean;
  /** Budget of each step in ms; a slower step fails the journey. */
  readonly stepBudgetMs: number;
}

export interface StepResult {
  readonly step: string;
  readonly ok: boolean;
  readonly ms: number;
  /** HTTP status, when the step got an answer. */
  readonly status?: number;
  /** Why it failed, or why it was skipped. */
  readonly detail?: string;
  readonly skipped?: boolean;
}

export interface JourneyResult {
  readonly ok: boolean;
  readonly ms: number;
  readonly steps: StepResult[];
}

class StepFailure extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Runs the journey once; never throws: a failure is a failed step (the rest are not run). */
export async function runJourney(s: JourneySettings, fetchImpl: typeof fetch = fetch): Promise<JourneyResult> {
  const started = performance.now();
  const steps: StepResult[] = [];
  let token = '';

  const call = async (method: string, path: string, body?: unknown, expect: number[] = [200], extra: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetchImpl(new URL(path, s.baseUrl), {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(s.stepBudgetMs * 2),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
    if (!expect.includes(res.status)) {
      const why = typeof parsed.error === 'string' ? `${parsed.error}${parsed.message ? `: ${String(parsed.message)}` : ''}` : `unexpected answer`;
      throw new StepFailure(`${method} ${path} -> ${res.status} ${why}`, res.status);
    }
    return { status: res.status, body: parsed };
  };

  /** Runs one step; returns false (and stops the journey) on a failure or a blown budget. */
  const step = async (name: string, work: () => Promise<{ status?: number; skipped?: string } | void>): Promise<boolean> => {
    const t0 = performance.now();
    try {
      const out = (await work()) ?? {};
      const ms = Math.round(performance.now() - t0);
      if (out.skipped) {
        steps.push({ step: name, ok: true, ms, skipped: true, detail: out.skipped });
        return true;
      }
      const ok = ms <= s.stepBudgetMs;
      steps.push({ step: name, ok, ms, status: out.status, ...(ok ? {} : { detail: `took ${ms} ms, budget ${s.stepBudgetMs} ms` }) });
      return ok;
    } catch (err) {
      const ms = Math.round(performance.now() - t0);
      const e = err as Error & { status?: number };
      const detail = e.name === 'TimeoutError' ? `no answer within ${s.stepBudgetMs * 2} ms` : e.message;
      steps.push({ step: name, ok: false, ms, status: e.status, detail });
      return false;
    }
  };

  let productId: number | undefined;
  const journey: [string, () => Promise<{ status?: number; skipped?: string } | void>][] = [
    ['health', async () => ({ status: (await call('GET', '/healthz')).status })],
    ['search', async () => {
      const r = await call('GET', '/api/catalog/public/search?size=5');
      const items = (r.body.items ?? []) as { id: number }[];
      productId = items[0]?.id;
      return { status: r.status };
    }],
    ['product', async () => {
      if (productId === undefined) return { skipped: 'the catalog is empty' };
      const r = await call('GET', `/api/catalog/public/products/${productId}`);
      return { status: r.status };
    }],
    ['sign-in', async () => {
      const login = () => call('POST', '/api/user/public/login', { email: s.email, password: s.password }, [200, 401]);
      let r = await login();
      if (r.status === 401) {
        // First run in this environment: the smoke account does not exist yet.
        await call('POST', '/api/user/public/signup', { email: s.email, password: s.password, name: 'Smoke test' }, [201, 409]);
        r = await login();
        if (r.status !== 200) throw new StepFailure('the smoke account cannot sign in (wrong password in its secret?)', r.status);
      }
      token = String(r.body.token ?? '');
      if (!token) throw new StepFailure('sign-in answered without a token', r.status);
      return { status: r.status };
    }],
    ['cart-add', async () => {
      if (productId === undefined) return { skipped: 'no product to add' };
      return { status: (await call('PUT', `/api/order/cart/items/${productId}`, { quantity: 1 })).status };
    }],
    ['checkout', async () => {
      if (!s.checkout) return { skipped: 'checkout is off in this environment' };
      if (productId === undefined) return { skipped: 'no product to buy' };
      // Checkout takes an Idempotency-Key (one per checkout; a retry would resend the same one).
      return { status: (await call('POST', '/api/order/checkout', undefined, [201, 409], { 'idempotency-key': crypto.randomUUID() })).status };
    }],
    ['cart-clear', async () => ({ status: (await call('DELETE', '/api/order/cart', undefined, [204])).status })],
  ];
  for (const [name, work] of journey) {
    if (!(await step(name, work))) break;
  }
  return { ok: steps.length === journey.length && steps.every((r) => r.ok), ms: Math.round(performance.now() - started), steps };
}

/** One line a person reads first: `smoke PASS 7 steps in 412 ms (...)` or what failed. */
export function verdict(r: JourneyResult): string {
  const timings = r.steps.map((s) => `${s.step} ${s.skipped ? 'skipped' : `${s.ms}ms`}`).join(', ');
  if (r.ok) return `smoke PASS ${r.steps.length} steps in ${r.ms} ms (${timings})`;
  const failed = r.steps.find((s) => !s.ok);
  return `smoke FAIL at ${failed?.step ?? 'unknown'}: ${failed?.detail ?? 'not every step ran'} (${timings})`;
}
