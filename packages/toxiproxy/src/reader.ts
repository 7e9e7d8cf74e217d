import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';

/**
 * Reads a socket through `onread` into reused buffers instead of Node's default of one fresh
 * 64 KiB allocation, one `Buffer` and one `'data'` event per read. What this buys on the
 * no-toxic path (measured on loopback, proxy-thread CPU per 256 MiB): ≈145–190 ms with
 * `'data'` + `write()` (the same with `pipe()`, or with a 1 MiB `highWaterMark`, which does
 * not change the 64 KiB read size), ≈110 ms with 256 KiB reads, ≈75–110 ms with 1 MiB reads
 * (2–4 MiB: no measurable gain): reads average ≈0.9 MiB instead of 64 KiB, so a small
 * fraction of the read and write syscalls and wake-ups, and no allocation per chunk.
 *
 * Memory stays bounded however many connections are open: an idle or chatty socket reads
 * into one thread-wide 64 KiB buffer, and what it reads there is copied out at once (small
 * chunks; nothing may keep that buffer past the callback, since every socket reads into it).
 * Only when a read fills it (a bulk transfer) does the socket get a 1 MiB buffer of its own;
 * the link writes straight from that one and reads nothing more until the destination socket
 * has flushed those bytes (mostly it has by the time `write()` returns). Eight short reads in
 * a row, each flushed at once, hand it back to a small pool of spares — without that
 * hysteresis a transfer the proxy keeps up with flips between the two buffers (≈1 read in 4,
 * each flip a 64 KiB copy). A socket that goes quiet right after a bulk transfer keeps its
 * buffer until it reads again or closes: up to 1 MiB per direction of such a connection.
 */
const SHARED_SIZE = 64 * 1024;
const OWN_SIZE = 1024 * 1024;
/** Short reads in a row (a chatty phase) after which a socket gives its own buffer back. */
const RELEASE_AFTER = 8;
/** Own buffers kept for the next bulk transfer instead of being reallocated. */
const MAX_SPARES = 4;

/** Every socket of this thread that has no own buffer reads into this one. */
const shared = Buffer.allocUnsafeSlow(SHARED_SIZE);
const spares: Buffer[] = [];

/** Where a `Reader` delivers bytes (a link). */
export interface ReadTarget {
  /**
   * `length` bytes at the start of `buffer`. `reused`: the bytes are only valid during this
   * call (copy them to keep them). Otherwise they are the reader's own buffer, and returning
   * `true` says the destination still holds them: the target has paused the socket and
   * resumes it once they are flushed, so the reader does not overwrite them meanwhile.
   */
  read(buffer: Buffer, length: number, reused: boolean): boolean;
}

export class Reader {
  #target: ReadTarget | undefined;
  #own: Buffer | undefined;
  /** Anything read before a target was bound (not expected: sockets start paused). */
  #early: Buffer[] = [];
  /** Short reads in a row from the own buffer. */
  #short = 0;

  readonly options: OnReadOpts = {
    buffer: () => this.#own ?? shared,
    callback: (length: number, buffer: Uint8Array): boolean => {
      const target = this.#target;
      if (!target) {
        this.#early.push(Buffer.copyBytesFrom(buffer, 0, length));
        return true;
      }
      if (buffer !== this.#own) {
        target.read(buffer as Buffer, length, true);
        // A full shared buffer means more is waiting: read the rest in large chunks.
        if (length === buffer.length) this.#own = spares.pop() ?? Buffer.allocUnsafeSlow(OWN_SIZE);
      } else if (!target.read(buffer as Buffer, length, false) && length < SHARED_SIZE) {
        if (++this.#short >= RELEASE_AFTER) {
          if (spares.length < MAX_SPARES) spares.push(this.#own);
          this.#own = undefined;
          this.#short = 0;
        }
      } else {
        this.#short = 0;
      }
      return true;
    },
  };

  bind(target: ReadTarget): void {
    this.#target = target;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) target.read(chunk, chunk.length, false);
  }
}

/**
 * Whether accepted sockets are adopted (the fast path below). Off only in bench/toxiproxy.bench.ts,
 * which runs a second proxy without it to measure what the private API buys; not exported by the package.
 */
let adoptAccepted = true;
export function setAdoptAccepted(on: boolean): void {
  adoptAccepted = on;
}

interface SocketInternals {
  _handle?: { readStart?: unknown } | null;
  _server?: unknown;
  server?: unknown;
}

/**
 * An accepted socket re-wrapped so that it reads through `reader` (paused, like the
 * original under `pauseOnConnect`). Node offers `onread` only to sockets it creates from
 * options, and a server creates accepted sockets itself; this hands the accepted handle to a
 * new socket the way Node's own accept code does (`new Socket({ handle })`; the emptied
 * original is then destroyed). That option is internal, so on any surprise the original
 * socket is returned and the proxy reads it through `'data'` as before.
 */
export function adopt(client: Socket, reader: Reader): Socket {
  const original = client as unknown as SocketInternals;
  const handle = original._handle;
  if (
    !adoptAccepted ||
    !handle ||
    typeof handle.readStart !== 'function' ||
    !client.isPaused() ||
    client.readableLength > 0
  ) {
    return client;
  }
  let socket: Socket;
  try {
    socket = new Socket({
      handle,
      allowHalfOpen: true,
      pauseOnCreate: true,
      onread: reader.options,
    } as unknown as SocketConstructorOpts);
  } catch {
    return client;
  }
  socket.pause();
  // The server counts its connections through `_server`; the new socket takes over.
  const adopted = socket as unknown as SocketInternals;
  adopted._server = original._server;
  adopted.server = original.server;
  original._server = null;
  original.server = null;
  original._handle = null;
  client.destroy();
  return socket;
}
