import { EventEmitter } from 'node:events';
import { Router } from '../../src/gateway/routing';
import { DEFAULT_SETTINGS, compileSettings } from '../../src/gateway/settings';

/** The registry's side the router reads: the services it knows, and a change event per service. */
function directory(services: string[]) {
  return Object.assign(new EventEmitter(), { services: () => services });
}

describe('gateway routing', () => {
  const settings = compileSettings({
    ...DEFAULT_SETTINGS,
    routes: [
      { prefix: '/api/shop', service: 'catalog', rewrite: '/' },
      { prefix: '/api/shop/orders', service: 'order', rewrite: '/orders' },
    ],
  });

  it('takes the longest configured prefix and rewrites it', () => {
    const router = new Router('gateway', directory([]));
    expect(router.resolve(settings, '/api/shop/orders/7')).toEqual({ service: 'order', path: '/orders/7', route: '/api/shop/orders', prefix: '/api/shop/orders' });
    expect(router.resolve(settings, '/api/shop')).toEqual({ service: 'catalog', path: '/', route: '/api/shop', prefix: '/api/shop' });
    expect(router.resolve(settings, '/api/shopping')).toBeUndefined();
  });

  it('routes /api/<service>/rest to any service ever registered, never to a gateway', () => {
    const registry = directory(['catalog', 'gateway-b']);
    const router = new Router('edge', registry);
    expect(router.resolve(settings, '/api/catalog/public/products/1')).toMatchObject({ service: 'catalog', path: '/public/products/1', route: '/api/catalog' });
    expect(router.resolve(settings, '/api/catalog')).toMatchObject({ service: 'catalog', path: '/' });
    expect(router.resolve(settings, '/api/user/me')).toBeUndefined();
    registry.emit('change', 'user');
    expect(router.resolve(settings, '/api/user/me')).toMatchObject({ service: 'user', path: '/me' });
    registry.emit('change', 'edge');
    expect(router.resolve(settings, '/api/edge/x')).toBeUndefined();
    expect(router.resolve(settings, '/api/gateway-b/x')).toBeUndefined();
    expect(router.resolve(compileSettings({ ...DEFAULT_SETTINGS, autoRoutes: false }), '/api/catalog/x')).toBeUndefined();
  });
});
