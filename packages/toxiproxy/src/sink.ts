import type { Socket } from 'node:net';
import { CLOSE, type Item, type Output } from './channel.ts';

/**
 * The end of a link: writes chunks to the destination socket with backpressure. At end of
 * stream it half-closes the socket (FIN after every byte before it) and, on `CLOSE`, closes
 * it fully once written: an RST when a reset_peer toxic was present at accept time.
 * (Toxiproxy closes fully on either; a half-close is proxied here, as Envoy does.)
 */
export class SocketSink implements Output {
  readonly #socket: Socket;
  readonly #reset: boolean;
  #waiters: Array<() => void> = [];
  #ended = false;
  readonly #onEnd: (full: boolean) => void;
  /** Bytes handed to the destination socket. */
  sent = 0;

  /** `onEnd` hears how the stream ended: `full` for a close, not a half-close. */
  constructor(socket: Socket, reset: boolean, onEnd: (full: boolean) => void = () => {}) {
    this.#socket = socket;
    this.#reset = reset;
    this.#onEnd = onEnd;
    socket.on('drain', this.#notify);
    socket.on('close', this.#closed);
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
    if (item === null || item === CLOSE) this.end(item === CLOSE);
    else return this.write(item.data);
    return true;
  }

  /** End of stream: a FIN after what is queued, or (`full`) the close. */
  end(full: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    if (full) this.close();
    else if (!this.#socket.destroyed) this.#socket.end();
    this.#onEnd(full);
  }

  /** Closes the socket once what is queued is written (at once, with an RST, under reset_peer). */
  close(): void {
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

  /** The destination is gone (closed or failed): nothing more can reach it, the connection closes. */
  #closed = (): void => {
    this.end(true);
    this.#notify();
  };

  #notify = (): void => {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  };
}
