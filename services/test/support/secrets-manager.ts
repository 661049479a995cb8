/**
 * AWS Secrets Manager on loopback, for unit tests: answers GetSecretValue from a map (an unknown
 * id gets ResourceNotFoundException, an entry can be an error of its own) and records each call.
 * PutSecretValue stores a new value, refusing a ClientRequestToken already used with another
 * value (ResourceExistsException), as the real service does.
 * `env` points an AWS SDK process at it (endpoint + static test credentials; pass it to a child);
 * `apply()` does that for this process until `close()`.
 */
import { createServer } from 'node:http';

export interface SecretsManagerError {
  readonly status: number;
  /** e.g. AccessDeniedException */
  readonly type: string;
  readonly message: string;
}

export interface LoopbackSecretsManager {
  readonly url: string;
  /** Each GetSecretValue call: its X-Amz-Target and JSON body. */
  readonly requests: Array<{ target: string; body: { SecretId?: string; SecretString?: string; ClientRequestToken?: string } }>;
  /** Variables that make the AWS SDK call this endpoint with test credentials. */
  readonly env: Record<string, string>;
  /** Sets `env` in process.env (restored by close()). */
  apply(): void;
  close(): Promise<void>;
}

export async function startSecretsManager(secrets: Record<string, string | SecretsManagerError>): Promise<LoopbackSecretsManager> {
  const requests: LoopbackSecretsManager['requests'] = [];
  const versions = new Map<string, string>();
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as { SecretId?: string; SecretString?: string; ClientRequestToken?: string };
      const target = String(req.headers['x-amz-target']);
      requests.push({ target, body });
      const found = body.SecretId === undefined ? undefined : secrets[body.SecretId];
      const answer = (status: number, json: unknown, errorType?: string) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
        res.end(JSON.stringify(json));
      };
      if (target === 'secretsmanager.PutSecretValue' && typeof found === 'string') {
        const token = `${body.SecretId}/${body.ClientRequestToken}`;
        const earlier = versions.get(token);
        if (earlier !== undefined && earlier !== body.SecretString) {
          answer(400, { __type: 'ResourceExistsException', message: 'You can\'t modify an existing version, you can only create a new version.' }, 'ResourceExistsException');
          return;
        }
        versions.set(token, body.SecretString ?? '');
        secrets[body.SecretId!] = body.SecretString ?? '';
        answer(200, { ARN: body.SecretId, Name: body.SecretId, VersionId: body.ClientRequestToken });
        return;
      }
      if (typeof found === 'string') {
        answer(200, { ARN: body.SecretId, Name: body.SecretId, VersionId: 'v1', SecretString: found });
      } else {
        const err = found ?? { status: 400, type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." };
        answer(err.status, { __type: err.type, message: err.message }, err.type);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const env = { AWS_ENDPOINT_URL_SECRETS_MANAGER: url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  let saved: NodeJS.ProcessEnv | undefined;
  return {
    url,
    requests,
    env,
    apply() {
      saved ??= { ...process.env };
      Object.assign(process.env, env);
    },
    async close() {
      if (saved) {
        for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
