import { Readable } from 'node:stream';

/** What the body needs of the connection it arrives on (undici's dispatch controller). */
export interface BodyFlow {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
}

/** Held unread beyond this many bytes, the connection is paused until the body is read or streamed. */
const HIGH_WATER_BYTES = 64 * 1024;
/** `dump()` reads at most this much more to keep the connection; a longer body closes it instead. */
const DUMP_LIMIT_BYTES = 128 * 1024;

/**
 * The body of a service's answer, read as it arrives: whole (`bytes`, `text`, `json`,
 * `arrayBuffer`), as a stream (`stream`), or dropped (`dump`). Unlike a stream per response, a body
 * read whole costs no stream machinery, which is most answers on the gateway's path.
 */
export class ResponseBody {
  private chunks: Buffer[] = [];
  private held = 0;
  private state: 'open' | 'ended' | 'failed' = 'open';
  private failure: Error | undefined;
  private readable: Readable | undefined;
  private dumped = 0;
  private dumping = false;
  private waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed: Array<() => void> = [];

  /** @internal Built by the service client for each answer. */
  constructor(private readonly flow: BodyFlow) {}

  /** A body already whole: what a fallback answers with. */
  static of(content: string | Buffer): ResponseBody {
    const body = new ResponseBody({ pause() {}, resume() {}, abort() {} });
    body.push(typeof content === 'string' ? Buffer.from(content) : content);
    body.end();
    return body;
  }

  /** @internal A chunk from the connection. */
  push(chunk: Buffer): void {
    if (this.readable) {
      if (!this.readable.push(chunk)) this.flow.pause();
      return;
    }
    if (this.dumping) {
      this.dumped += chunk.length;
      if (this.dumped > DUMP_LIMIT_BYTES) this.flow.abort(new Error('response body dropped'));
      return;
    }
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.held > HIGH_WATER_BYTES && !this.waiting) this.flow.pause();
  }

  /** @internal The whole body arrived. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    this.readable?.push(null);
    this.waiting?.resolve();
    this.close();
  }

  /** @internal The body broke off (connection error, timeout, abort). */
  fail(err: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = err;
    this.readable?.destroy(err);
    this.waiting?.reject(err);
    this.close();
  }

  /** Calls `listener` once the body ended, broke off or was dropped. */
  onClose(listener: () => void): void {
    if (this.state === 'open') this.closed.push(listener);
    else listener();
  }

  /** The whole body. */
  async bytes(): Promise<Buffer> {
    await this.finished();
    const chunks = this.chunks;
    this.chunks = [];
    this.held = 0;
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice().buffer;
  }

  /** Drops the body: the rest is read and thrown away (the connection goes back to the pool), or the connection closed if it is long. */
  async dump(): Promise<void> {
    this.dumping = true;
    this.chunks = [];
    this.held = 0;
    this.readable?.resume();
    await this.finished().catch(() => undefined);
  }

  /** The body as a stream, from what has arrived so far on (the same stream on every call). */
  stream(): Readable {
    if (this.readable) return this.readable;
    const readable = new Readable({ read: () => this.flow.resume() });
    for (const chunk of this.chunks) readable.push(chunk);
    this.chunks = [];
    this.held = 0;
    this.readable = readable;
    if (this.state === 'ended') readable.push(null);
    else if (this.state === 'failed') readable.destroy(this.failure);
    return readable;
  }

  private finished(): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    if (this.state === 'failed') return Promise.reject(this.failure);
    if (!this.waiting) {
      const p = new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
      this.flow.resume();
      return p;
    }
    return new Promise<void>((resolve, reject) => {
      const first = this.waiting!;
      this.waiting = {
        resolve: () => (first.resolve(), resolve()),
        reject: (err) => (first.reject(err), reject(err)),
      };
    });
  }

  private close(): void {
    const listeners = this.closed;
    this.closed = [];
    for (const listener of listeners) listener();
  }
}
