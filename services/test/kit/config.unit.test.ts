import { ConfigError, env, loadConfig, loadKitConfig } from '../../src/kit';

describe('config', () => {
  it('applies local defaults', () => {
    const c = loadKitConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.ETCD_ENDPOINTS).toHaveLength(3);
    expect(c.BALANCER).toBe('round-robin');
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadKitConfig({ PORT: 'eighty', BALANCER: 'random', REDIS_TLS: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT must be an integer between 0 and 65535 (got "eighty")');
    expect(message).toContain('BALANCER must be one of round-robin, weighted, least-outstanding (got "random")');
    expect(message).toContain('REDIS_TLS must be true or false (got "maybe")');
  });

  it('requires variables without a default', () => {
    expect(() => loadConfig({ JWKS_URL: env.url() }, {})).toThrow('JWKS_URL is required but not set');
    expect(loadConfig({ L: env.list() }, { L: ' a, ,b ' }).L).toEqual(['a', 'b']);
  });

  it('checks an optional variable against its pattern only when set', () => {
    const spec = { ARN: env.optional({ pattern: /^arn:/ }) };
    expect(loadConfig(spec, {}).ARN).toBeUndefined();
    expect(loadConfig(spec, { ARN: ' arn:x ' }).ARN).toBe('arn:x');
    expect(() => loadConfig(spec, { ARN: 'x' })).toThrow('ARN must match /^arn:/ (got "x")');
  });
});
