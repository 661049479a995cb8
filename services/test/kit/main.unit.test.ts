import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const SERVICES_DIR = resolve(__dirname, '../..');

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ['-r', './test/support/ts-register.js', 'src/main.ts'], {
      cwd: SERVICES_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 20_000,
    }, (_err, _stdout, stderr) => done({ code: child.exitCode, stderr }));
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
});
