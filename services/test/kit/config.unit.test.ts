import { ConfigError, env, loadConfig, loadKitConfig } from '../../src/kit';
import { envRule, parseConfig } from '../../src/kit/config';

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

  it('advertises ADVERTISE_HOST, else the pod IP, else loopback', () => {
    expect(loadKitConfig({}).ADVERTISE_HOST).toBe('127.0.0.1');
    expect(loadKitConfig({ POD_IP: '10.0.3.4' }).ADVERTISE_HOST).toBe('10.0.3.4');
    expect(loadKitConfig({ POD_IP: '10.0.3.4', ADVERTISE_HOST: 'svc.local' }).ADVERTISE_HOST).toBe('svc.local');
  });

  it('parses decimal numbers with bounds', () => {
    const spec = { M: env.number({ default: 30, above: 0 }) };
    expect(loadConfig(spec, {}).M).toBe(30);
    expect(loadConfig(spec, { M: '0.5' }).M).toBe(0.5);
    for (const bad of ['0', '-1', 'x', '1e3', 'Infinity']) expect(() => loadConfig(spec, { M: bad })).toThrow(`M must be a number above 0 (got "${bad}")`);
  });

  it('runs rules over the variables that parsed and reports every problem at once', () => {
    const spec = { A: env.optional(), B: env.optional(), N: env.int({ default: 1 }) };
    const oneOf = envRule(spec, (c) => (!!c.A === !!c.B ? ['A or B: set exactly one'] : []));
    expect(parseConfig(spec, { A: 'x', N: '2' }, [oneOf])).toEqual({ config: { A: 'x', B: undefined, N: 2 }, problems: [] });
    expect(() => loadConfig(spec, { N: 'two' }, [oneOf])).toThrow('Invalid configuration: N must be an integer between -9007199254740991 and 9007199254740991 (got "two"); A or B: set exactly one');
    expect(parseConfig({ R: env.string() }, {}, [], (name) => `hint for ${name}`).problems).toEqual(['R is required but not set (hint for R)']);
  });

  it('checks an optional variable against its pattern only when set', () => {
    const spec = { ARN: env.optional({ pattern: /^arn:/ }) };
    expect(loadConfig(spec, {}).ARN).toBeUndefined();
    expect(loadConfig(spec, { ARN: ' arn:x ' }).ARN).toBe('arn:x');
    expect(() => loadConfig(spec, { ARN: 'x' })).toThrow('ARN must match /^arn:/ (got "x")');
  });
});
