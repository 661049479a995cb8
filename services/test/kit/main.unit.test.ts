import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { startSecretsManager } from '../support/secrets-manager';

const SERVICES_DIR = resolve(__dirname, '../..');

function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
      cwd: SERVICES_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20_000,
    }, (_err, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }));
  });
}

describe('main entry', () => {
  it('refuses an unknown SERVICE, naming the choices', async () => {
    const { code, stderr } = await runMain({ SERVICE: 'nope' });
    expect(code).toBe(1);
    expect(JSON.parse(stderr.trim().split('\n').pop()!)).toMatchObject({ level: 'fatal', name: 'ConfigError', msg: expect.stringContaining('SERVICE must be one of gateway, echo') });
  });

  it('refuses a bad configuration before connecting anywhere, naming each variable', async () => {
    const { code, stderr } = await runMain({ SERVICE: 'gateway', PORT: 'x', RATE_LIMIT_FAIL_MODE: 'maybe' });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be an integer');
    const jwt = await runMain({ SERVICE: 'gateway' });
    expect(jwt.code).toBe(1);
    expect(jwt.stderr).toContain('JWT_JWKS_URL or JWT_PUBLIC_KEY');
  });

  describe('secrets at start', () => {
    const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
    const password = 'redis-pass-Secret-9';

    it('fills the variables from the secrets before the service loads its config, logging names only', async () => {
      const sm = await startSecretsManager({ [arn('redis')]: JSON.stringify({ username: 'app', password }) });
      try {
        // The gateway then stops on its own config (no JWT key), after the secret was used.
        const { code, stdout, stderr } = await runMain({ ...sm.env, SERVICE: 'gateway', AWS_REGION: 'eu-west-1', REDIS_SECRET_ARN: arn('redis') });
        expect(sm.requests.map((r) => r.body.SecretId)).toEqual([arn('redis')]);
        expect(JSON.parse(stdout.trim())).toMatchObject({
          level: 'info', msg: 'secrets loaded', service: 'gateway',
          secrets: [{ variable: 'REDIS_SECRET_ARN', arn: arn('redis'), filled: ['REDIS_USERNAME', 'REDIS_PASSWORD'] }],
        });
        expect(code).toBe(1);
        expect(stderr).toContain('JWT_JWKS_URL or JWT_PUBLIC_KEY');
        expect(stdout + stderr).not.toContain(password);
      } finally {
        await sm.close();
      }
    });

    it('an unreadable secret stops a job with one JSON line naming the variable and the ARN', async () => {
      const sm = await startSecretsManager({ [arn('db')]: JSON.stringify({ username: 'admin', password }) });
      try {
        const { code, stdout, stderr } = await runMain({
          ...sm.env, SERVICE: 'order-timeout', AWS_REGION: 'eu-west-1', MYSQL_SECRET_ARN: arn('db'), REDIS_SECRET_ARN: arn('gone'),
        });
        expect(code).toBe(1);
        // (Node itself may print warnings; the entry prints exactly one JSON line.)
        const lines = stderr.trim().split('\n').filter((l) => l.startsWith('{'));
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0])).toEqual({
          level: 'fatal',
          name: 'SecretError',
          msg: expect.stringContaining(`REDIS_SECRET_ARN: cannot use secret ${arn('gone')}: ResourceNotFoundException`),
          secrets: [{ variable: 'REDIS_SECRET_ARN', arn: arn('gone'), reason: expect.stringContaining('ResourceNotFoundException') }],
        });
        expect(stdout).toBe('');
        expect(stderr).not.toContain(password);
      } finally {
        await sm.close();
      }
    });

    it('an unreachable Secrets Manager stops the start with the variable, the ARN and the network error', async () => {
      const down = await startSecretsManager({});
      await down.close();
      const { code, stderr } = await runMain({ ...down.env, SERVICE: 'search-sync', OPENSEARCH_SECRET_ARN: arn('search') });
      expect(code).toBe(1);
      const line = JSON.parse(stderr.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
      expect(line).toMatchObject({ level: 'fatal', name: 'SecretError', secrets: [{ variable: 'OPENSEARCH_SECRET_ARN', arn: arn('search') }] });
      expect(line.msg).toBe(`OPENSEARCH_SECRET_ARN: cannot use secret ${arn('search')}: Error: connect ECONNREFUSED ${new URL(down.url).host}`);
    });
  });
});
