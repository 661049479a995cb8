import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { eventually, startEcho, startGateway, testIssuer, unique, type TestGateway, type TestIssuer } from '../support/engines';

let issuer: TestIssuer;
let gw: TestGateway;
let service: string;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  issuer = await testIssuer();
  gw = await startGateway(issuer);
  stops.push(() => gw.stop());
  service = unique('svc');
  const e = await startEcho(service);
  stops.push(() => e.stop());
  await gw.setting('public-paths', [`/api/${service}/public/**`]);
  await eventually(() => gw.svc.ctx.registry!.instances(service).length === 1, 2000, 'discovered');
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

async function get(authorization?: string, path = '/private', extra: Record<string, string> = {}, url = gw.url) {
  const res = await fetch(`${url}/api/${service}${path}`, { headers: { ...(authorization ? { authorization } : {}), ...extra } });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, body, wwwAuthenticate: res.headers.get('www-authenticate') };
}

describe('JWT rejection matrix', () => {
  it('accepts a valid token and forwards the identity', async () => {
    const { status, body } = await get(`Bearer ${await issuer.token({ sub: 'alice', roles: ['admin', 'customer'] })}`);
    expect(status).toBe(200);
    expect(body.identity).toMatchObject({ userId: 'alice', roles: ['admin', 'customer'] });
  });

  const rejected: Array<[string, () => Promise<string | undefined>, string]> = [
    ['missing', async () => undefined, 'missing_token'],
    ['expired', async () => `Bearer ${await issuer.token({ exp: Math.floor(Date.now() / 1000) - 60 }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })}`, 'token_expired'],
    ['alg none', async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', iss: 'https://auth.test.local', aud: 'platform-api', exp: 9999999999 })}.`, 'invalid_token'],
    ['signed by another key', async () => `Bearer ${await issuer.token({}, { key: (await testIssuer()).privateKey })}`, 'invalid_token'],
    ['wrong audience', async () => `Bearer ${await issuer.token({}, { audience: 'another-api' })}`, 'invalid_claims'],
    ['wrong issuer', async () => `Bearer ${await issuer.token({}, { issuer: 'https://evil.example' })}`, 'invalid_claims'],
    ['HS256 signed with the public key (algorithm confusion)', async () => {
      const secret = new TextEncoder().encode(issuer.publicJwk);
      const t = await new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://auth.test.local').setAudience('platform-api').setExpirationTime('5m').sign(secret);
      return `Bearer ${t}`;
    }, 'invalid_token'],
    ['not a JWT', async () => 'Bearer not-a-token', 'invalid_token'],
    ['another scheme', async () => 'Basic YWxpY2U6c2VjcmV0', 'unsupported_scheme'],
  ];
  it.each(rejected)('rejects %s with 401', async (_name, authorization, reason) => {
    const { status, body, wwwAuthenticate } = await get(await authorization());
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: reason, message: expect.any(String), requestId: expect.any(String) });
    expect(wwwAuthenticate).toMatch(/^Bearer error="invalid_(request|token)", error_description="[^"]*"$/);
  });

  it('drops forged identity headers, with or without a token', async () => {
    const forged = { 'x-user-id': 'admin', 'x-user-roles': 'admin', 'x-auth-issuer': 'me', 'X-User-Email': 'root@example.test' };
    const anon = await get(undefined, '/public/page', forged);
    expect(anon.status).toBe(200);
    expect(anon.body.identity).toBeNull();
    expect(Object.keys(anon.body.headers as object).filter((h) => h.startsWith('x-user-') || h.startsWith('x-auth-'))).toEqual([]);
    const authed = await get(`Bearer ${await issuer.token({ sub: 'bob' })}`, '/private', forged);
    expect(authed.body.identity).toMatchObject({ userId: 'bob', roles: ['customer'] });
    expect((authed.body.headers as Record<string, string>)['x-user-email']).toBeUndefined();
    const rejected = await get(undefined, '/private', forged);
    expect(rejected.status).toBe(401);
  });

  it('serves public paths anonymously and ignores a bad token there', async () => {
    expect((await get(undefined, '/public/x')).status).toBe(200);
    const bad = await get('Bearer a.b.c', '/public/x');
    expect(bad.status).toBe(200);
    expect(bad.body.identity).toBeNull();
  });

  it('verifies with keys from a JWKS URL', async () => {
    const other = await testIssuer();
    const jwks = { keys: [JSON.parse(other.publicJwk)] };
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(() => new Promise((r) => server.close(r)));
    const jwksGw = await startGateway(other, { JWT_PUBLIC_KEY: '', JWT_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` });
    stops.push(() => jwksGw.stop());
    await eventually(() => jwksGw.svc.ctx.registry!.instances(service).length === 1, 2000, 'discovered');
    expect((await get(`Bearer ${await other.token({ sub: 'carol' })}`, '/private', {}, jwksGw.url)).status).toBe(200);
    expect((await get(`Bearer ${await issuer.token({ sub: 'carol' })}`, '/private', {}, jwksGw.url)).status).toBe(401);
  });
});
