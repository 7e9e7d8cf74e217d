import type { Chunk } from './toxics/toxic.ts';

/**
 * The connection is closing (a toxic closed it, or the source socket closed or failed):
 * the sink closes its socket fully once what precedes it is written.
 */
export const CLOSE: unique symbol = Symbol('close');

/**
 * `null` is end of stream from the source (its FIN): the sink half-closes its socket, after
 * every byte before it. `CLOSE` closes the connection.
 */
export type Item = Chunk | null | typeof CLOSE;

/** Where a stage sends its output: the next stage's channel, or the socket sink. */
export interface Output {
  /** Accepts the item at once; `false` means the producer should wait for `onSpace`. */
  push(item: Item): boolean;
  onSpace(callback: () => void): void;
  offSpace(callback: () => void): void;
}

const EMPTY: unique symbol = Symbol('empty');

/**
 * A bounded queue between two stages of a link, the single-threaded stand-in for a Go
 * channel. Pushes never block (the producer is told to wait instead), so interrupting a
 * stage can never deadlock on a full channel, and nothing pushed is ever lost.
 */
export class Channel implements Output {
  readonly capacity: number;
  #items: Item[] = [];
  #head = 0;
  #taker: ((item: Item) => void) | undefined;
  #spaceWaiters: Array<() => void> = [];
  #discarding = false;

  constructor(capacity = 1) {
    this.capacity = Math.max(1, capacity);
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: Item): boolean {
    if (this.#discarding) return true;
    const taker = this.#taker;
    if (taker) {
      this.#taker = undefined;
      taker(item);
      return true;
    }
    this.#items.push(item);
    return this.length < this.capacity;
  }

  /** The next item, or `EMPTY`. */
  shift(): Item | typeof EMPTY {
    if (this.#head >= this.#items.length) return EMPTY;
    const item = this.#items[this.#head]!;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    if (this.#spaceWaiters.length > 0 && this.length < this.capacity) this.#notifySpace();
    return item;
  }

  /** Registers the single consumer's wait for the next item. */
  take(callback: (item: Item) => void): void {
    this.#taker = callback;
    if (this.#spaceWaiters.length > 0) this.#notifySpace();
  }

  cancelTake(): void {
    this.#taker = undefined;
  }

  /** Everything still queued, in order (used when a stage is removed). */
  drain(): Item[] {
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#notifySpace();
    return rest;
  }

  /** The consumer is gone for good: drop the queue and everything pushed later. */
  discard(): void {
    this.#discarding = true;
    this.#items = [];
    this.#head = 0;
    this.#taker = undefined;
    this.#notifySpace();
  }

  onSpace(callback: () => void): void {
    if (this.#discarding || this.length < this.capacity) callback();
    else this.#spaceWaiters.push(callback);
  }

  offSpace(callback: () => void): void {
    const i = this.#spaceWaiters.indexOf(callback);
    if (i >= 0) this.#spaceWaiters.splice(i, 1);
  }

  #notifySpace(): void {
    const waiters = this.#spaceWaiters;
    this.#spaceWaiters = [];
    for (const waiter of waiters) waiter();
  }

  static readonly EMPTY: typeof EMPTY = EMPTY;
}
