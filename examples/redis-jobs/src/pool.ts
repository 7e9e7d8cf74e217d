// Connections for long-poll claims. A blocking BLMOVE holds its connection until it returns, so
// each waiting claim gets one of its own; the number is capped (each is a socket on Redis).
import type { Redis } from 'ioredis';
import { whenReady, withDeadline } from './redis.ts';

/** Too many claims waiting at once: answered 503, the client retries later. */
export class TooManyClaimsError extends Error {
  override readonly name = 'TooManyClaimsError';
}

/** How many idle connections are kept for the next claims. */
const KEEP_IDLE = 4;

export class BlockingPool {
  readonly #create: () => Redis;
  readonly #max: number;
  readonly #readyMs: number;
  readonly #idle: Redis[] = [];
  readonly #busy = new Set<Redis>();
  /** Redis' own id of each connection, for CLIENT UNBLOCK. */
  readonly #ids = new WeakMap<Redis, number>();
  #closed = false;

  constructor(create: () => Redis, max: number, readyMs: number) {
    this.#create = create;
    this.#max = max;
    this.#readyMs = readyMs;
  }

  get waiting(): number {
    return this.#busy.size;
  }

  async acquire(): Promise<Redis> {
    if (this.#closed) throw new TooManyClaimsError('shutting down');
    if (this.#busy.size >= this.#max) throw new TooManyClaimsError(`${this.#max} claims are already waiting`);
    const conn = this.#idle.pop() ?? this.#create();
    this.#busy.add(conn);
    try {
      await whenReady(conn, this.#readyMs);
      if (!this.#ids.has(conn)) {
        this.#ids.set(conn, await withDeadline('CLIENT ID', this.#readyMs, () => conn.client('ID')));
      }
      return conn;
    } catch (error) {
      this.release(conn, false);
      throw error;
    }
  }

  /**
   * `reusable` only when the claim ended normally: after a deadline the BLMOVE may still be
   * pending on the connection, and the next claim would wait behind it.
   */
  release(conn: Redis, reusable: boolean): void {
    this.#busy.delete(conn);
    if (reusable && !this.#closed && conn.status === 'ready' && this.#idle.length < KEEP_IDLE) {
      this.#idle.push(conn);
      return;
    }
    conn.disconnect();
  }

  /**
   * Ends every waiting claim (used when the drain deadline passes): CLIENT UNBLOCK, sent on
   * `control`, makes their BLMOVE return nothing at once. Disconnecting instead would leave each
   * socket half-closed for seconds (Redis does not read from a blocked client), and the process
   * could not exit meanwhile. Where Redis does not answer, the connection is dropped.
   */
  async abortWaiting(control: Redis): Promise<void> {
    const unblock = async (conn: Redis) => {
      const id = this.#ids.get(conn);
      try {
        if (id === undefined) throw new Error('no client id');
        await withDeadline('CLIENT UNBLOCK', this.#readyMs, () => control.client('UNBLOCK', id));
      } catch {
        conn.disconnect();
      }
    };
    await Promise.all([...this.#busy].map(unblock));
  }

  close(): void {
    this.#closed = true;
    for (const conn of [...this.#idle.splice(0), ...this.#busy]) conn.disconnect();
  }
}
