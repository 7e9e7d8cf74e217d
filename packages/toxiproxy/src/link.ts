import type { Socket } from 'node:net';
import { Channel, CLOSE, type Output } from './channel.ts';
import type { Reader, ReadTarget } from './reader.ts';
import type { SocketSink } from './sink.ts';
import { Stub } from './stub.ts';
import { type Direction, ToxicWrapper } from './toxic-wrapper.ts';
import { noop } from './toxics/noop.ts';

/** The hidden first stage of every chain, so a toxic always has a predecessor to rewire. */
const HIDDEN_NOOP = new ToxicWrapper('__noop', noop, 'downstream', 'downstream', 1, {});

/**
 * One direction of one connection (Toxiproxy's `ToxicLink`): source socket → hidden noop →
 * toxics in insertion order → sink. With no toxics it is a plain pipe with backpressure
 * (the fast path); the first toxic added switches it to the chain, byte-exactly, because
 * everything already handed to the sink precedes what the chain emits later.
 *
 * Chain edits are queued per link so they never interleave.
 */
export class Link implements ReadTarget {
  readonly direction: Direction;
  readonly #source: Socket;
  readonly #sink: SocketSink;
  readonly #random: () => number;
  readonly #reader: Reader | undefined;
  #stubs: Stub[] = [];
  #wrappers: ToxicWrapper[] = [];
  #chained = false;
  #ended = false;
  #paused = false;
  #destroyed = false;
  #ops: Promise<void> = Promise.resolve();
  /** Bytes read from the source. */
  received = 0;

  /** With a `reader`, the source socket was set up to read through it (`onread`), not `'data'`. */
  constructor(direction: Direction, source: Socket, sink: SocketSink, random: () => number, reader?: Reader) {
    this.direction = direction;
    this.#source = source;
    this.#sink = sink;
    this.#random = random;
    this.#reader = reader;
  }

  get sent(): number {
    return this.#sink.sent;
  }

  /** Starts moving bytes through the given toxics (a snapshot of the proxy's chain). */
  start(toxics: readonly ToxicWrapper[]): void {
    if (toxics.length > 0) {
      this.#enterChain();
      for (const wrapper of toxics) {
        const previous = this.#stubs.at(-1)!;
        const stub = this.#append(wrapper);
        previous.output = stub.input;
        stub.run(wrapper);
      }
    }
    if (this.#reader) this.#reader.bind(this);
    else this.#source.on('data', this.#onData);
    this.#source.on('end', this.#onHalfClose);
    this.#source.on('close', this.#onClose);
  }

  addToxic(wrapper: ToxicWrapper): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.#chained) {
        if (this.#ended) return; // end of stream already reached the sink
        this.#enterChain();
      }
      const last = this.#stubs.at(-1)!;
      const lastWrapper = this.#wrappers.at(-1)!;
      const stub = this.#append(wrapper);
      // Stop the last stage, point it at the new one, restart both.
      if (await last.interrupt()) {
        last.output = stub.input;
        stub.run(wrapper);
        last.run(lastWrapper);
      } else {
        stub.dispose();
      }
    });
  }

  updateToxic(wrapper: ToxicWrapper): Promise<void> {
    return this.#enqueue(async () => {
      const stub = this.#stubs[this.#wrappers.indexOf(wrapper)];
      if (stub && (await stub.interrupt())) stub.run(wrapper);
    });
  }

  removeToxic(wrapper: ToxicWrapper): Promise<void> {
    return this.#enqueue(async () => {
      const i = this.#wrappers.indexOf(wrapper);
      if (i < 1) return;
      const stub = this.#stubs[i]!;
      const previous = this.#stubs[i - 1]!;
      if (!(await stub.interrupt())) return;
      if (wrapper.type.closesOnRemove) {
        stub.close();
      } else {
        // Whatever the removed stage still queues goes on, in order, before anything the
        // previous stage emits once it writes past it.
        await previous.interrupt();
        for (const item of stub.input.drain()) stub.output.push(item);
        previous.output = stub.output;
      }
      this.#stubs.splice(i, 1);
      this.#wrappers.splice(i, 1);
      if (!wrapper.type.closesOnRemove) previous.run(this.#wrappers[i - 1]!);
    });
  }

  /** Connection gone: cancel every pending wait and timer of this link. */
  destroy(): void {
    this.#destroyed = true;
    for (const stub of this.#stubs) stub.dispose();
    this.#source.off('data', this.#onData);
  }

  #enterChain(): void {
    const stub = new Stub(new Channel(1), this.#sink, this.#random);
    this.#stubs = [stub];
    this.#wrappers = [HIDDEN_NOOP];
    this.#chained = true;
    stub.run(HIDDEN_NOOP);
  }

  /** Adds a stage after the last one, writing where the last one wrote; the caller rewires. */
  #append(wrapper: ToxicWrapper): Stub {
    const last = this.#stubs.at(-1)!;
    const stub = new Stub(new Channel(wrapper.type.bufferSize), last.output, this.#random);
    stub.state = wrapper.type.newState?.();
    this.#stubs.push(stub);
    this.#wrappers.push(wrapper);
    return stub;
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#ops.then(() => (this.#destroyed ? undefined : op()));
    this.#ops = next.catch(() => undefined);
    return next;
  }

  /** `ReadTarget`: bytes from the source's reader (see `reader.ts`). */
  read(buffer: Buffer, length: number, reused: boolean): boolean {
    if (this.#destroyed) return false;
    this.received += length;
    if (this.#chained || reused) {
      // Chunks in the chain live on (queued, delayed), so they need memory of their own.
      this.#forward(Buffer.copyBytesFrom(buffer, 0, length));
      return false;
    }
    // No toxics: straight from the read buffer to the destination, no copy. Until the
    // destination has flushed those bytes, nothing more is read (into the same memory).
    if (!this.#sink.writeHeld(buffer.subarray(0, length))) return false;
    this.#paused = true;
    this.#source.pause();
    this.#sink.onFlushed(this.#resume);
    return true;
  }

  #onData = (data: Buffer): void => {
    this.received += data.length;
    this.#forward(data);
  };

  #forward(data: Buffer): void {
    if (!this.#chained) {
      if (!this.#sink.write(data)) this.#pause(this.#sink);
      return;
    }
    const input = this.#stubs[0]!.input;
    if (!input.push({ data, timestamp: performance.now() })) this.#pause(input);
  }

  #pause(output: Output): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#source.pause();
    output.onSpace(this.#resume);
  }

  #resume = (): void => {
    this.#paused = false;
    if (!this.#destroyed) this.#source.resume();
  };

  /** The source's FIN: passed on as a half-close, after every byte before it. */
  #onHalfClose = (): void => this.#end(null);

  /** The source closed or failed without (or after) a FIN: the connection closes. */
  #onClose = (): void => this.#end(CLOSE);

  #end(item: null | typeof CLOSE): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#chained) this.#stubs[0]!.input.push(item);
    else this.#sink.end(item === CLOSE);
  }
}
