import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { ServiceInstance } from '../../src/kit';

/** A throwaway HTTP server on 127.0.0.1 with a swappable handler. */
export interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly hits: IncomingMessage[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startServer(handler: TestServer['handler']): Promise<TestServer> {
  const hits: IncomingMessage[] = [];
  const state = { handler } as TestServer;
  const server = createServer((req, res) => {
    hits.push(req);
    state.handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    server,
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function instanceOf(service: string, id: string, port: number, weight = 1): ServiceInstance {
  return { id, service, host: '127.0.0.1', port, version: 't', zone: 'local', weight, metadata: {}, startedAt: '' };
}

/** A port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const s = await startServer(() => undefined);
  await s.close();
  return s.port;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends `text` as is to the server at `url` (malformed requests no HTTP client would send) and returns the raw answer. */
export function rawRequest(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
    let out = '';
    socket.on('data', (c) => (out += c.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

/** Starts a fastify app on an ephemeral 127.0.0.1 port (tests of one module behind a route); close it with `app.close()`. */
export async function listenLocal(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}
