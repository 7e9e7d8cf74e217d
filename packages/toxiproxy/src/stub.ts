import { Channel, CLOSE, type Item, type Output } from './channel.ts';
import type { ToxicCounter, ToxicWrapper } from './toxic-wrapper.ts';
import { noop } from './toxics/noop.ts';
import type { Chunk, ToxicStub } from './toxics/toxic.ts';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One position in a link's chain (Toxiproxy's `ToxicStub`). At most one operation of the
 * running toxic is pending at a time; interrupting cancels it, so the toxic returns
 * promptly and the link can rewire its channels.
 */
export class Stub implements ToxicStub {
  readonly input: Channel;
  output: Output;
  state: unknown;
  readonly #random: () => number;
  #interrupted = false;
  #closed = false;
  #running: Promise<void> = RESOLVED;
  #cancel: (() => void) | undefined;
  /** The running toxic's counter; undefined while a noop stands in (toxicity draw, hidden head). */
  #counter: ToxicCounter | undefined;
  /** Whether this link was already counted as a connection the toxic acted on. */
  #counted = false;
  /** The end of stream read was the source's half-close (FIN), not a closing connection. */
  #halfClosed = false;

  constructor(input: Channel, output: Output, random: () => number) {
    this.input = input;
    this.output = output;
    this.#random = random;
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get halfClosed(): boolean {
    return this.#halfClosed;
  }

  random(): number {
    return this.#random();
  }

  /** Starts the toxic, or a noop when the toxicity roll says this link is spared. */
  run(wrapper: ToxicWrapper): void {
    if (this.#closed) return;
    this.#interrupted = false;
    const real = this.#random() < wrapper.toxicity;
    const type = real ? wrapper.type : noop;
    this.#counter = real ? wrapper.counter : undefined;
    this.#running = type.pipe(wrapper.attributes, this).catch((error: unknown) => {
      // A faulty toxic ends its link rather than the server.
      process.emitWarning(`toxic ${wrapper.name} (${wrapper.type.type}) failed: ${String(error)}`);
      this.close();
    });
  }

  /** Stops the running toxic; `false` when the stub is already closed (the link is ending). */
  async interrupt(): Promise<boolean> {
    if (this.#closed) return false;
    this.#interrupted = true;
    this.#cancel?.();
    await this.#running;
    return !this.#closed;
  }

  /** Closes the connection: both directions, once what this stage already wrote is out. */
  close(): void {
    this.#finish(CLOSE);
  }

  /** Forwards the end of stream this stage read: a half-close stays a half-close. */
  end(): void {
    this.#finish(this.#halfClosed ? null : CLOSE);
  }

  #finish(item: null | typeof CLOSE): void {
    if (this.#closed) return;
    this.#closed = true;
    this.input.discard();
    this.output.push(item);
  }

  /** Tears the stub down with its link: cancels any pending timer or wait. */
  dispose(): void {
    this.#interrupted = true;
    this.#closed = true;
    this.input.discard();
    this.#cancel?.();
  }

  /**
   * Counted when the toxic acts, so evidence is true while the connection is still open; a
   * noop standing in for a spared toxic has no counter. Field bumps only, no allocation.
   */
  acted(bytes: number): void {
    const counter = this.#counter;
    if (counter === undefined) return;
    counter.bytes += bytes;
    if (!this.#counted) {
      this.#counted = true;
      counter.connections++;
    }
  }

  /** What a toxic sees of an item: both kinds of end are `null` (`halfClosed` tells them apart). */
  #seen(item: Item): Chunk | null {
    if (item === null || item === CLOSE) {
      this.#halfClosed = item === null;
      return null;
    }
    return item;
  }

  read(): Promise<Chunk | null | undefined> {
    if (this.#interrupted) return Promise.resolve(undefined);
    const item = this.input.shift();
    if (item !== Channel.EMPTY) return Promise.resolve(this.#seen(item));
    return new Promise((resolve) => {
      this.input.take((next) => {
        this.#cancel = undefined;
        resolve(this.#seen(next));
      });
      this.#cancel = () => {
        this.input.cancelTake();
        this.#cancel = undefined;
        resolve(undefined);
      };
    });
  }

  readWithin(ms: number): Promise<Chunk | null | undefined | false> {
    if (this.#interrupted) return Promise.resolve(undefined);
    const item = this.input.shift();
    if (item !== Channel.EMPTY) return Promise.resolve(this.#seen(item));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.input.cancelTake();
        this.#cancel = undefined;
        resolve(false);
      }, ms);
      this.input.take((next) => {
        clearTimeout(timer);
        this.#cancel = undefined;
        resolve(this.#seen(next));
      });
      this.#cancel = () => {
        clearTimeout(timer);
        this.input.cancelTake();
        this.#cancel = undefined;
        resolve(undefined);
      };
    });
  }

  write(chunk: Chunk): Promise<void> {
    if (this.output.push(chunk) || this.#interrupted) return RESOLVED;
    return new Promise((resolve) => {
      const output = this.output;
      const done = (): void => {
        output.offSpace(done);
        this.#cancel = undefined;
        resolve();
      };
      output.onSpace(done);
      this.#cancel = done;
    });
  }

  sleep(ms: number): Promise<boolean> {
    if (this.#interrupted) return Promise.resolve(false);
    if (!(ms > 0)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (slept: boolean): void => {
        this.#cancel = undefined;
        resolve(slept);
      };
      // Sub-millisecond sleeps (slicer's µs delays) become one turn of the event loop:
      // Node timers cannot wait less than 1 ms.
      if (ms < 1) {
        const immediate = setImmediate(done, true);
        this.#cancel = () => {
          clearImmediate(immediate);
          done(false);
        };
      } else {
        const timer = setTimeout(done, ms, true);
        this.#cancel = () => {
          clearTimeout(timer);
          done(false);
        };
      }
    });
  }
}
