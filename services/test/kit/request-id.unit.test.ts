import { RequestIds } from '../../src/kit/request-id';

describe('RequestIds', () => {
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('makes UUID-v4-shaped ids, each one different', () => {
    const ids = new RequestIds();
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = ids.next();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(10_000);
  });

  it('draws a new random part per process (instance), so two never share ids', () => {
    const a = new RequestIds().next();
    const b = new RequestIds().next();
    expect(a.slice(0, 24)).not.toBe(b.slice(0, 24));
  });

  it('reseeds when the counter runs out instead of wrapping to an id already given', () => {
    const ids = new RequestIds();
    (ids as unknown as { counter: number }).counter = 0xffffffffffff;
    const last = ids.next();
    const next = ids.next();
    expect(last.endsWith('ffffffffffff')).toBe(true);
    expect(next).toMatch(UUID_V4);
    expect(next.slice(0, 24)).not.toBe(last.slice(0, 24));
  });
});
