import type { JWK } from 'jose';
import { AuthError, JwtVerifier } from '../../src/kit';
import { AUDIENCE, ISSUER, testIssuer } from '../support/engines';

describe('JwtVerifier', () => {
  /** A verifier whose key set counts the signature checks (jose asks it once per check). */
  async function counting() {
    const issuer = await testIssuer();
    const jwk = JSON.parse(issuer.publicJwk) as JWK;
    let checks = 0;
    const verifier = await JwtVerifier.create({ keys: () => (checks++, [jwk]), issuer: ISSUER, audience: [AUDIENCE] });
    return { issuer, verifier, checks: () => checks };
  }

  it('checks a token once while concurrent requests carry it, then serves it from the cache', async () => {
    const { issuer, verifier, checks } = await counting();
    const header = `Bearer ${await issuer.token({ sub: 'alice' })}`;
    const identities = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(header)));
    expect(identities.map((i) => i.userId)).toEqual(Array(20).fill('alice'));
    expect(checks()).toBe(1);
    expect((await verifier.verify(header)).userId).toBe('alice');
    expect(checks()).toBe(1);
    // Another token is its own check.
    await verifier.verify(`Bearer ${await issuer.token({ sub: 'bob' })}`);
    expect(checks()).toBe(2);
  });

  it('gives every concurrent holder of a bad token the same refusal, and checks it again afterwards', async () => {
    const { issuer, verifier, checks } = await counting();
    const header = `Bearer ${await issuer.token({ sub: 'mallory' }, { audience: 'someone-else' })}`;
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => verifier.verify(header)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuthError);
    }
    expect(checks()).toBe(1);
    // Refusals are not cached: the next request is checked again.
    await expect(verifier.verify(header)).rejects.toBeInstanceOf(AuthError);
    expect(checks()).toBe(2);
  });
});
