import type { Socket } from 'node:net';
import type { Item, Output } from './channel.ts';

/**
 * The end of a link: writes chunks to the destination socket with backpressure and, at end
 * of stream, fully closes it (Toxiproxy closes, it never half-closes). Closing is an RST
 * when a reset_peer toxic was present at accept time.
 */
export class SocketSink implements Output {
  readonly #socket: Socket;
  readonly #reset: boolean;
  #waiters: Array<() => void> = [];
  #ended = false;
  /** Bytes handed to the destination socket. */
  sent = 0;

  constructor(socket: Socket, reset: boolean) {
    this.#socket = socket;
    this.#reset = reset;
    socket.on('drain', this.#notify);
    socket.on('close', this.#notify);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The fast path: bytes straight from the source socket. */
  write(data: Buffer): boolean {
    if (this.#ended || this.#socket.destroyed) return true;
    if (data.length === 0) return true;
    this.sent += data.length;
    // `write()` says false for any chunk above the high-water mark, even one the kernel took
    // whole; pausing the source then costs a read stop/start per chunk for nothing.
    return this.#socket.write(data) || this.#socket.writableLength === 0;
  }

  /**
   * The fast path for bytes in a reused read buffer: `true` when the socket still holds them
   * after the call (queued in Node or libuv, which keep a reference, not a copy), so the
   * caller must not reuse that memory before `onFlushed` calls back. A write the kernel takes
   * whole (the usual case on a socket keeping up) leaves nothing held.
   */
  writeHeld(data: Buffer): boolean {
    if (this.#ended || this.#socket.destroyed || data.length === 0) return false;
    this.sent += data.length;
    this.#socket.write(data, this.#written);
    return this.#socket.writableLength > 0;
  }

  push(item: Item): boolean {
    if (item !== null) return this.write(item.data);
    this.end();
    return true;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (this.#reset) socket.resetAndDestroy();
    else socket.destroySoon();
  }

  onSpace(callback: () => void): void {
    if (this.#ended || this.#socket.destroyed || !this.#socket.writableNeedDrain) callback();
    else this.#waiters.push(callback);
  }

  /** Calls back once nothing is queued on the socket any more (see `writeHeld`). */
  onFlushed(callback: () => void): void {
    if (this.#socket.destroyed || this.#socket.writableLength === 0) callback();
    else this.#waiters.push(callback);
  }

  offSpace(callback: () => void): void {
    const i = this.#waiters.indexOf(callback);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  /**
   * A held write may be smaller than `writableHighWaterMark`, so `'drain'` would not follow;
   * its callback wakes the waiters once nothing is queued (or the write failed).
   */
  #written = (error?: Error | null): void => {
    if (error || this.#socket.writableLength === 0) this.#notify();
  };

  #notify = (): void => {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  };
}
