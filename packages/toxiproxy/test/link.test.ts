// Checklist items 42–46, 52 and 53 (link_test.go, toxics/*_test.go): chain mechanics and
// single toxics driven at stub level, where pieces and state are observable.
import { describe, expect, test } from 'vitest';
import { Channel, CLOSE, type Item, type Output } from '../src/channel.ts';
import { Stub } from '../src/stub.ts';
import { ToxicWrapper } from '../src/toxic-wrapper.ts';
import { toxicTypes } from '../src/toxics/registry.ts';
import { api, connect, portOf, readBytes, readToEnd, sleep, startServer, startUpstream } from './helpers.ts';

/** Collects what a stub emits. */
class Collector implements Output {
  items: Item[] = [];
  push(item: Item): boolean {
    this.items.push(item);
    return true;
  }
  onSpace(callback: () => void): void {
    callback();
  }
  offSpace(): void {}
  get data(): Buffer[] {
    return this.items.flatMap((i) => (i === null || i === CLOSE ? [] : [i.data]));
  }
  /** Ended: passed on a half-close (`null`) or closed the connection (`CLOSE`). */
  get closed(): boolean {
    const last = this.items.at(-1);
    return last === null || last === CLOSE;
  }
  get closedFully(): boolean {
    return this.items.at(-1) === CLOSE;
  }
}

function wrapper(type: string, attributes: Record<string, number>, toxicity = 1): ToxicWrapper {
  const toxicType = toxicTypes.get(type)!;
  return new ToxicWrapper(type, toxicType, 'downstream', 'downstream', toxicity, {
    ...toxicType.defaults,
    ...attributes,
  });
}

function stubFor(w: ToxicWrapper): { stub: Stub; input: Channel; out: Collector } {
  const input = new Channel(w.type.bufferSize);
  const out = new Collector();
  const stub = new Stub(input, out, Math.random);
  stub.state = w.type.newState?.();
  stub.run(w);
  return { stub, input, out };
}

const chunk = (text: string | Buffer) => ({ data: Buffer.from(text), timestamp: performance.now() });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('42/45: live chain edits over sockets', () => {
  test('42: 65 535 2-byte writes arrive complete and in order while a 1000 ms latency toxic is added/removed', async () => {
    const received: Buffer[] = [];
    const upstream = await startUpstream((s) => s.on('data', (d: Buffer) => received.push(d)));
    const env = await startServer();
    const proxy = await env.client.createProxy({ name: 'p', listen: 'localhost:0', upstream: upstream.address });
    const socket = await connect(portOf(proxy.listen));
    let writing = true;
    const churn = (async () => {
      while (writing) {
        await api(env.server, 'POST', '/proxies/p/toxics', {
          name: 'l',
          type: 'latency',
          stream: 'upstream',
          attributes: { latency: 1000 },
        });
        await api(env.server, 'DELETE', '/proxies/p/toxics/l');
      }
    })();
    for (let i = 0; i < 65_535; i++) {
      const two = Buffer.alloc(2);
      two.writeUInt16BE(i);
      socket.write(two);
      if (i % 512 === 511) await sleep(1);
    }
    writing = false;
    await churn;
    const deadline = performance.now() + 5000;
    while (Buffer.concat(received).length < 65_535 * 2 && performance.now() < deadline) await sleep(10);
    const all = Buffer.concat(received);
    expect(all.length).toBe(65_535 * 2);
    for (let i = 0; i < 65_535; i++) if (all.readUInt16BE(i * 2) !== i) expect.fail(`value ${i} out of order`);
    const ending = readToEnd(socket, 1000);
    upstream.sockets[0]!.end();
    expect((await ending).how).toBe('end');
  });

  test('45: removing rate-0 bandwidth toxics while data flows on a broken connection does not hang', async () => {
    const upstream = await startUpstream((s) => s.resume());
    const env = await startServer();
    const proxy = await env.client.createProxy({ name: 'p', listen: 'localhost:0', upstream: upstream.address });
    for (const stream of ['upstream', 'downstream'] as const) {
      await api(env.server, 'POST', '/proxies/p/toxics', {
        name: stream,
        type: 'bandwidth',
        stream,
        attributes: { rate: 0 },
      });
    }
    const socket = await connect(portOf(proxy.listen));
    socket.write(Buffer.alloc(256 * 1024));
    await sleep(50);
    socket.destroy();
    upstream.sockets[0]?.destroy();
    const started = performance.now();
    expect((await api(env.server, 'DELETE', '/proxies/p/toxics/upstream')).status).toBe(204);
    expect((await api(env.server, 'DELETE', '/proxies/p/toxics/downstream')).status).toBe(204);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('46: stub and buffer initialisation', () => {
  test('latency gets a 1024-chunk input buffer, the others act unbuffered', () => {
    expect(toxicTypes.get('latency')!.bufferSize).toBe(1024);
    expect(new Channel(toxicTypes.get('latency')!.bufferSize).capacity).toBe(1024);
    for (const type of ['noop', 'bandwidth', 'slicer', 'timeout', 'limit_data', 'reset_peer', 'slow_close']) {
      expect(new Channel(toxicTypes.get(type)!.bufferSize).capacity, type).toBe(1);
    }
  });

  test('a stub forwards in order, closes on end of stream, and interrupt returns promptly', async () => {
    const { stub, input, out } = stubFor(wrapper('latency', { latency: 10_000 }));
    input.push(chunk('a'));
    input.push(chunk('b'));
    await tick();
    const started = performance.now();
    expect(await stub.interrupt()).toBe(true);
    expect(performance.now() - started).toBeLessThan(50);
    // The chunk being delayed went out at once; the queued one is still queued, not lost.
    expect(out.data.map(String)).toEqual(['a']);
    expect(input.length).toBe(1);
    stub.run(wrapper('noop', {}));
    input.push(null);
    await tick();
    expect(out.data.map(String)).toEqual(['a', 'b']);
    expect(out.closed).toBe(true);
    expect(await stub.interrupt()).toBe(false);
  });

  test('toxicity 0 runs the stub as a noop', async () => {
    const { input, out } = stubFor(wrapper('timeout', { timeout: 0 }, 0));
    input.push(chunk('passes'));
    await tick();
    expect(out.data.map(String)).toEqual(['passes']);
  });
});

describe('52: slicer at stub level', () => {
  test('480 KB, average 1024 ± 512, 10 µs delay: bytes intact in 240–2000 pieces, each within bounds', async () => {
    const payload = Buffer.alloc(480_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 249;
    const { input, out } = stubFor(wrapper('slicer', { average_size: 1024, size_variation: 512, delay: 10 }));
    // Toxiproxy reads 32 KiB at a time.
    for (let offset = 0; offset < payload.length; offset += 32 * 1024) {
      input.push(chunk(payload.subarray(offset, offset + 32 * 1024)));
      while (input.length > 0) await tick();
    }
    input.push(null);
    const deadline = performance.now() + 5000;
    while (!out.closed && performance.now() < deadline) await sleep(5);
    expect(Buffer.concat(out.data).equals(payload)).toBe(true);
    expect(out.data.length).toBeGreaterThanOrEqual(240);
    expect(out.data.length).toBeLessThanOrEqual(2000);
    for (const piece of out.data) expect(piece.length).toBeLessThanOrEqual(1024 + 512);
  });

  test('zero size variation: 24 bytes with average 1 ⇒ exactly 24 pieces', async () => {
    const { input, out } = stubFor(wrapper('slicer', { average_size: 1, size_variation: 0, delay: 0 }));
    input.push(chunk('abcdefghijklmnopqrstuvwx'));
    input.push(null);
    while (!out.closed) await tick();
    expect(out.data.length).toBe(24);
    expect(Buffer.concat(out.data).toString()).toBe('abcdefghijklmnopqrstuvwx');
  });

  test('100 bytes, average 10, variation 0 ⇒ 6–7 byte pieces (recursive halving)', async () => {
    const { input, out } = stubFor(wrapper('slicer', { average_size: 10, size_variation: 0, delay: 0 }));
    input.push(chunk(Buffer.alloc(100)));
    input.push(null);
    while (!out.closed) await tick();
    expect(new Set(out.data.map((d) => d.length))).toEqual(new Set([6, 7]));
  });

  test('a huge size_variation does not crash (the real server panics)', async () => {
    const { input, out } = stubFor(wrapper('slicer', { average_size: 2, size_variation: 1000, delay: 0 }));
    input.push(chunk(Buffer.alloc(5000, 1)));
    input.push(null);
    while (!out.closed) await tick();
    expect(Buffer.concat(out.data).length).toBe(5000);
  });
});

describe('53: limit_data at stub level', () => {
  const run = async (limit: number, chunks: string[]) => {
    const { input, out } = stubFor(wrapper('limit_data', { bytes: limit }));
    for (const c of chunks) input.push(chunk(c));
    await tick();
    await tick();
    return out;
  };
  const text = (n: number) => 'x'.repeat(n);

  test('chunk smaller than the limit passes, link stays open', async () => {
    const out = await run(100, [text(50)]);
    expect([out.data.map((d) => d.length), out.closed]).toEqual([[50], false]);
  });

  test('chunk equal to the limit passes, then the link closes at once', async () => {
    const out = await run(100, [text(100)]);
    expect([out.data.map((d) => d.length), out.closed]).toEqual([[100], true]);
  });

  test('chunk larger than the limit is truncated, then closed', async () => {
    const out = await run(100, [text(150)]);
    expect([out.data.map((d) => d.length), out.closedFully]).toEqual([[100], true]);
  });

  test('multiple chunks up to the limit; second chunk overflow 90 + 20 ⇒ 90 + 10', async () => {
    expect((await run(100, [text(30), text(30)])).data.map((d) => d.length)).toEqual([30, 30]);
    const out = await run(100, [text(90), text(20)]);
    expect([out.data.map((d) => d.length), out.closed]).toEqual([[90, 10], true]);
  });

  test('limit 0: nothing passes and the first chunk closes the link', async () => {
    const out = await run(0, [text(10)]);
    expect([out.data.length, out.closed]).toEqual([0, true]);
  });

  test('state survives interrupt and restart (update)', async () => {
    const w = wrapper('limit_data', { bytes: 100 });
    const { stub, input, out } = stubFor(w);
    input.push(chunk(text(60)));
    await tick();
    expect(await stub.interrupt()).toBe(true);
    stub.run(w);
    input.push(chunk(text(60)));
    await tick();
    expect([out.data.map((d) => d.length), out.closed]).toEqual([[60, 40], true]);
  });

  test('end of stream (nil input) closes; a half-close passes on as one, a closing connection as a close', async () => {
    const half = stubFor(wrapper('limit_data', { bytes: 100 }));
    half.input.push(null);
    await tick();
    expect([half.out.closed, half.out.closedFully]).toEqual([true, false]);
    const full = stubFor(wrapper('limit_data', { bytes: 100 }));
    full.input.push(CLOSE);
    await tick();
    expect(full.out.closedFully).toBe(true);
  });
});

test('limit_data over sockets: limit 10, client sends 16 B, receives 0123456789 then EOF', async () => {
  const env = await startServer();
  const upstream = await startUpstream();
  const proxy = await env.client.createProxy({ name: 'p', listen: 'localhost:0', upstream: upstream.address });
  await proxy.addToxic({
    name: 'l',
    type: 'limit_data',
    stream: 'downstream',
    toxicity: 1,
    attributes: { bytes: 10 } as never,
  });
  const socket = await connect(portOf(proxy.listen));
  socket.write('0123456789abcdef');
  expect((await readBytes(socket, 10)).toString()).toBe('0123456789');
  expect((await readToEnd(socket, 1000)).how).toBe('end');
});
