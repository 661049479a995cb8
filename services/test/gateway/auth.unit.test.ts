import Fastify from 'fastify';
import { GatewayAuth } from '../../src/gateway/auth';
import { RateLimits } from '../../src/gateway/limits';
import { GatewayMetrics, rejecter } from '../../src/gateway/metrics';
import { DEFAULT_SETTINGS, compileSettings } from '../../src/gateway/settings';
import { JwtVerifier, Registry, createLogger } from '../../src/kit';
import { listenLocal } from '../support/http';
import { AUDIENCE, ISSUER, testIssuer, type TestIssuer } from '../support/engines';

let issuer: TestIssuer;
let url: string;
/** Whether the client's IP limit is spent (what the counters answer). */
let ipSpent = false;
const app = Fastify();

beforeAll(async () => {
  issuer = await testIssuer();
  const verifier = await JwtVerifier.create({ publicKey: issuer.publicJwk, issuer: ISSUER, audience: [AUDIENCE] });
  const metrics = new GatewayMetrics(new Registry(), () => []);
  const reject = rejecter(metrics);
  const counters = { hit: async () => ({ allowed: !ipSpent, limit: 3, remaining: 0, resetSeconds: 9, windowSeconds: 60 }) };
  const auth = new GatewayAuth(verifier, new RateLimits(counters, metrics, createLogger({ service: 't', level: 'silent' }), reject), reject);
  const s = compileSettings(DEFAULT_SETTINGS);
  app.get('/api/*', async (req, reply) => {
    const who = await auth.identify(req, reply, s, req.url);
    return 'answered' in who ? who.answered : { identity: who.identity ?? null };
  });
  url = await listenLocal(app);
});
afterAll(() => app.close());

async function get(path: string, authorization?: string) {
  const res = await fetch(url + path, { headers: authorization ? { authorization } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, wwwAuthenticate: res.headers.get('www-authenticate') };
}

describe('gateway authentication', () => {
  it('needs a valid token on a protected path and says why not in WWW-Authenticate', async () => {
    expect((await get('/api/svc/x', `Bearer ${await issuer.token({ sub: 'alice' })}`)).body.identity).toMatchObject({ userId: 'alice', roles: ['customer'] });
    const missing = await get('/api/svc/x');
    expect(missing).toMatchObject({ status: 401, body: { error: 'missing_token' } });
    expect(missing.wwwAuthenticate).toBe('Bearer error="invalid_request", error_description="Authorization header with a Bearer token is required"');
    const expired = await get('/api/svc/x', `Bearer ${await issuer.token({}, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`);
    expect(expired).toMatchObject({ status: 401, body: { error: 'token_expired', requestId: expect.any(String) } });
    expect(expired.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/);
  });

  it('serves anonymous callers on a public path; a bad token there is no identity', async () => {
    expect(await get('/api/svc/public/x')).toMatchObject({ status: 200, body: { identity: null } });
    expect(await get('/api/svc/public/x', 'Bearer a.b.c')).toMatchObject({ status: 200, body: { identity: null } });
    expect((await get('/api/svc/public/x', `Bearer ${await issuer.token({ sub: 'bob' })}`)).body.identity).toMatchObject({ userId: 'bob' });
  });

  it('answers 429 instead of 401 once the refused caller has spent its IP limit', async () => {
    ipSpent = true;
    try {
      expect(await get('/api/svc/x', 'Bearer a.b.c')).toMatchObject({ status: 429, body: { error: 'rate_limited', retryAfter: 9 } });
    } finally {
      ipSpent = false;
    }
  });
});
