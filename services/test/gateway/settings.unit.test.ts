import { DEFAULT_SETTINGS, compilePattern, compileSettings, liveSettings, parseSettings } from '../../src/gateway/settings';

describe('gateway settings', () => {
  it('matches path patterns: * one segment, ** any rest, optional method', () => {
    const pub = compilePattern('/api/*/public/**');
    expect(pub('GET', '/api/catalog/public')).toBe(true);
    expect(pub('GET', '/api/catalog/public/items/1')).toBe(true);
    expect(pub('GET', '/api/catalog/publicity')).toBe(false);
    expect(pub('GET', '/api/a/b/public/x')).toBe(false);
    const login = compilePattern('POST /api/user/login');
    expect(login('POST', '/api/user/login')).toBe(true);
    expect(login('GET', '/api/user/login')).toBe(false);
    expect(login('POST', '/api/user/login/x')).toBe(false);
    expect(() => compilePattern('api/no-slash')).toThrow('is not a path pattern');
  });

  it('parses every key over the defaults', () => {
    const { settings, errors } = parseSettings({
      routes: JSON.stringify([{ prefix: '/api/shop/', service: 'catalog' }]),
      'public-paths': '["GET /api/catalog/**"]',
      'rate-limits': '{"ip":{"limit":5,"windowSeconds":1},"routes":[{"match":"POST /api/user/login","limit":3,"windowSeconds":60,"by":"ip"}]}',
      'ip-rules': '{"deny":["203.0.113.0/24"]}',
      'rate-limit-fail-mode': 'closed',
      'auto-routes': 'false',
    });
    expect(errors).toEqual([]);
    expect(settings.routes).toEqual([{ prefix: '/api/shop', service: 'catalog', rewrite: '/' }]);
    expect(settings.rateLimits.ip).toEqual({ limit: 5, windowSeconds: 1 });
    expect(settings.rateLimits.user).toBeUndefined();
    expect(settings.failMode).toBe('closed');
    expect(settings.autoRoutes).toBe(false);
  });

  it('keeps the previous value of a bad key and names it', () => {
    const previous = { ...DEFAULT_SETTINGS, publicPaths: ['/api/x/**'] };
    const { settings, errors } = parseSettings(
      { 'public-paths': '{oops', 'rate-limits': '{"ip":{"limit":0,"windowSeconds":1}}', 'ip-rules': '{"allow":["10.0.0.0/33"]}', 'rate-limit-fail-mode': 'sometimes' },
      previous,
    );
    expect(settings.publicPaths).toEqual(['/api/x/**']);
    expect(settings.rateLimits).toBe(DEFAULT_SETTINGS.rateLimits);
    expect(errors).toEqual([
      'gateway setting "public-paths": must be a JSON array of strings (got "{oops")',
      'gateway setting "rate-limits": ip.limit must be a positive integer (got 0)',
      'gateway setting "ip-rules": "10.0.0.0/33" is not a CIDR like 10.0.0.0/8 or 2001:db8::/32',
      'gateway setting "rate-limit-fail-mode": must be "open" or "closed" (got "sometimes")',
    ]);
  });

  it('checks IPs against allow and deny CIDRs, IPv4-mapped IPv6 included; deny wins', () => {
    const c = compileSettings({ ...DEFAULT_SETTINGS, ipRules: { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.0/24'] } });
    expect(c.checkIp('10.1.2.3')).toBe('allow');
    expect(c.checkIp('::ffff:10.1.2.3')).toBe('allow');
    expect(c.checkIp('2001:db8::1')).toBe('allow');
    expect(c.checkIp('10.6.6.6')).toBe('denied');
    expect(c.checkIp('192.0.2.1')).toBe('not_allowed');
    expect(compileSettings(DEFAULT_SETTINGS).checkIp('192.0.2.1')).toBe('allow');
  });

  it('orders explicit routes longest prefix first', () => {
    const c = compileSettings({
      ...DEFAULT_SETTINGS,
      routes: [
        { prefix: '/api/shop', service: 'catalog', rewrite: '/' },
        { prefix: '/api/shop/orders', service: 'order', rewrite: '/orders' },
      ],
    });
    expect(c.routes.map((r) => r.service)).toEqual(['order', 'catalog']);
  });

  it('reloads live: a good key applies, a bad one keeps the value in force, each outcome reported', () => {
    const etcd: Record<string, string> = {};
    const outcomes: string[][] = [];
    const live = liveSettings({ defaults: DEFAULT_SETTINGS, read: (key) => etcd[key], onReload: ({ errors }) => outcomes.push([...errors]) });
    expect(live.current().source).toEqual(DEFAULT_SETTINGS);
    etcd['public-paths'] = '["/api/**"]';
    live.reload();
    expect(live.current().isPublic('GET', '/api/x/y')).toBe(true);
    etcd['public-paths'] = '{oops';
    live.reload();
    expect(live.current().isPublic('GET', '/api/x/y')).toBe(true);
    expect(outcomes).toEqual([[], [], ['gateway setting "public-paths": must be a JSON array of strings (got "{oops")']]);
  });
});
