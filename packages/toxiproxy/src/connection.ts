import type { Socket } from 'node:net';
import { Link } from './link.ts';
import type { Reader } from './reader.ts';
import { SocketSink } from './sink.ts';
import type { ToxicCollection } from './toxic-collection.ts';

/**
 * One accepted client and its own upstream socket, joined by two links: `upstream`
 * (client → server) and `downstream` (server → client). A half-close passes through: each
 * side's FIN reaches the other after every byte before it, and the sockets close by
 * themselves once both directions have ended. A close (a toxic's, or a socket that closed or
 * failed) closes the whole connection: the closed link's destination at once, the other
 * socket once its own link has ended too (the closed socket ends that link, after what it
 * still carries). It is over once both sockets have closed.
 */
export class Connection {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #toxics: ToxicCollection;
  readonly #reset: boolean;
  readonly #onClose: (connection: Connection) => void;
  readonly up: Link;
  readonly down: Link;
  readonly #sinks: SocketSink[];
  #open = 2;
  #ended = 0;
  #closing = false;

  constructor(
    client: Socket,
    upstream: Socket,
    toxics: ToxicCollection,
    random: () => number,
    onClose: (connection: Connection) => void,
    readers: { client?: Reader | undefined; upstream?: Reader | undefined } = {},
  ) {
    this.#client = client;
    this.#upstream = upstream;
    this.#toxics = toxics;
    this.#onClose = onClose;
    // Toxiproxy sets SO_LINGER=0 on both sockets when reset_peer is present at accept.
    this.#reset = toxics.resetsOnClose();
    this.#sinks = [
      new SocketSink(upstream, this.#reset, this.#linkEnded),
      new SocketSink(client, this.#reset, this.#linkEnded),
    ];
    this.up = new Link('upstream', client, this.#sinks[0]!, random, readers.client);
    this.down = new Link('downstream', upstream, this.#sinks[1]!, random, readers.upstream);
    client.once('close', this.#socketClosed);
    upstream.once('close', this.#socketClosed);
    toxics.addLink(this.up);
    toxics.addLink(this.down);
    this.up.start(toxics.chain('upstream'));
    this.down.start(toxics.chain('downstream'));
  }

  /** Drops the connection (proxy disabled, moved or deleted): clients read EOF. */
  close(): void {
    for (const socket of [this.#client, this.#upstream]) {
      if (socket.destroyed) continue;
      if (this.#reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  /** A link's end reached its destination; `full` when that was a close, not a half-close. */
  #linkEnded = (full: boolean): void => {
    this.#ended++;
    if (full) this.#closing = true;
    if (this.#closing && this.#ended === 2) for (const sink of this.#sinks) sink.close();
  };

  #socketClosed = (): void => {
    if (--this.#open > 0) return;
    this.up.destroy();
    this.down.destroy();
    this.#toxics.removeLink(this.up);
    this.#toxics.removeLink(this.down);
    this.#onClose(this);
  };
}
