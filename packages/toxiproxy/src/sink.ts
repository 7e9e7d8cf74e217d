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
    return this.#socket.write(data);
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

  offSpace(callback: () => void): void {
    const i = this.#waiters.indexOf(callback);
    if (i >= 0) this.#waiters.splice(i, 1);
  }

  #notify = (): void => {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  };
}
