import { edgeCacheControl } from '../../src/gateway/app';

// CloudFront caches /api/* responses that carry no Cache-Control for 10 s (edge stack): the
// gateway must keep cookies and per-caller answers out of that cache.
describe('edge Cache-Control from the gateway', () => {
  it('never lets a response that sets a cookie be stored, whatever the service said', () => {
    expect(edgeCacheControl({ 'set-cookie': ['sid=abc; HttpOnly'] }, {})).toBe('private, no-store');
    expect(edgeCacheControl({ 'set-cookie': 'sid=abc', 'cache-control': 'public, max-age=60' }, {})).toBe('private, no-store');
  });

  it('makes answers for a caller with credentials private unless the service chose', () => {
    expect(edgeCacheControl({}, { authorization: 'Bearer x' })).toBe('private, no-store');
    expect(edgeCacheControl({}, { cookie: 'sid=abc' })).toBe('private, no-store');
    expect(edgeCacheControl({ 'cache-control': 'public, max-age=30' }, { authorization: 'Bearer x' })).toBeUndefined();
  });

  it('leaves anonymous responses to the service and the edge default', () => {
    expect(edgeCacheControl({}, {})).toBeUndefined();
    expect(edgeCacheControl({ 'cache-control': 'public, max-age=300' }, {})).toBeUndefined();
  });
});
