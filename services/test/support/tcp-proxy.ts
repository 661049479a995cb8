/**
 * A loopback TCP proxy a test owns, in front of a shared engine: faults injected here touch only
 * the services the test pointed at the proxy, never the engine other test runs share.
 *
 *  - `pass`: forwards both ways;
 *  - `freeze`: keeps every socket open (new connections too) but forwards nothing until `pass`
 *    again (then delivers what waited), like a SIGSTOPped server whose kernel still accepts
 *    connections and buffers their bytes;
 *  - `down`: refuses new connections and resets the open ones, like a stopped server.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode = 'pass' | 'freeze' | 'down';

export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  set(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let server: Server | undefined;
  let port = 0;

  const onConnection = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
    if (mode === 'freeze') {
      client.pause();
      upstream.pause();
    }
  };

  const listen = async (): Promise<void> => {
    const s = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const unlisten = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get mode() {
      return mode;
    },
    async set(next) {
      if (next === mode) return;
      const previous = mode;
      mode = next;
      for (const p of pairs) {
        if (next === 'freeze') {
          p.client.pause();
          p.upstream.pause();
        } else if (next === 'pass') {
          p.client.resume();
          p.upstream.resume();
        }
      }
      if (next === 'down') {
        for (const p of [...pairs]) {
          p.client.resetAndDestroy();
          p.upstream.destroy();
        }
        await unlisten();
      } else if (previous === 'down') {
        await listen();
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await unlisten();
    },
  };
}
