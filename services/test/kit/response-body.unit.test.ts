import { ResponseBody } from '../../src/kit';

/** What the body did to its connection. */
function flow() {
  const calls: string[] = [];
  return { calls, pause: () => calls.push('pause'), resume: () => calls.push('resume'), abort: (e: Error) => calls.push(`abort:${e.message}`) };
}

describe('ResponseBody', () => {
  it('reads a body whole, however it arrived', async () => {
    const f = flow();
    const body = new ResponseBody(f);
    body.push(Buffer.from('{"a":'));
    const read = body.json();
    body.push(Buffer.from('1}'));
    body.end();
    expect(await read).toEqual({ a: 1 });
    expect(await ResponseBody.of('text').text()).toBe('text');
  });

  it('pauses the connection when too much is held unread, and resumes it for a reader', async () => {
    const f = flow();
    const body = new ResponseBody(f);
    body.push(Buffer.alloc(70 * 1024));
    expect(f.calls).toEqual(['pause']);
    const read = body.bytes();
    expect(f.calls).toEqual(['pause', 'resume']);
    body.push(Buffer.alloc(10));
    body.end();
    expect((await read).length).toBe(70 * 1024 + 10);
  });

  it('streams what arrived and what follows, with backpressure to the connection', async () => {
    const f = flow();
    const body = new ResponseBody(f);
    body.push(Buffer.from('a'));
    const stream = body.stream();
    body.push(Buffer.from('b'));
    body.end();
    const chunks: string[] = [];
    for await (const c of stream) chunks.push(c.toString());
    expect(chunks.join('')).toBe('ab');
    expect(body.stream()).toBe(stream);
  });

  it('passes a broken-off body on as an error, to a reader and to a stream', async () => {
    const read = new ResponseBody(flow());
    const pending = read.text();
    read.fail(new Error('socket closed'));
    await expect(pending).rejects.toThrow('socket closed');
    const streamed = new ResponseBody(flow());
    const stream = streamed.stream();
    streamed.fail(new Error('reset'));
    await expect((async () => {
      for await (const _ of stream) void _;
    })()).rejects.toThrow('reset');
  });

  it('drops a body read to its end, and closes the connection instead of reading a long one', async () => {
    const short = new ResponseBody(flow());
    const closed: string[] = [];
    short.onClose(() => closed.push('short'));
    const dumped = short.dump();
    short.push(Buffer.alloc(1000));
    short.end();
    await dumped;
    expect(closed).toEqual(['short']);
    const f = flow();
    const long = new ResponseBody(f);
    void long.dump();
    long.push(Buffer.alloc(200 * 1024));
    expect(f.calls.at(-1)).toBe('abort:response body dropped');
  });
});
