// Fills chunks from the origins (the pool handles failover and deadlines). Concurrent readers of
// the same chunk share one origin fetch and one pooled buffer; the fetched bytes are written back
// to the cache unless it is in passthrough.
import { type BufferPool, type ChunkLease, lease, SharedBuffer } from './buffer-pool.ts';
import type { ChunkWriter } from './chunk-writer.ts';
import { raceSignal } from './deadline.ts';
import { OriginError } from './errors.ts';
import type { FileRow } from './index-db.ts';
import type { OriginPool } from './origins/pool.ts';
import type { PassthroughSwitch } from './passthrough.ts';

/** Byte range of chunk `idx` of `file` (the last chunk is short). */
export function chunkSpan(chunkSize: number, file: FileRow, idx: number): { start: number; length: number } {
  const start = idx * chunkSize;
  return { start, length: Math.max(0, Math.min(chunkSize, file.size - start)) };
}

export interface OriginFillOptions {
  pool: OriginPool;
  buffers: BufferPool;
  writer: ChunkWriter;
  passthrough: PassthroughSwitch;
  chunkSize: number;
}

export class OriginFill {
  readonly #o: OriginFillOptions;
  readonly #fetches = new Map<string, { shared: SharedBuffer; done: Promise<Buffer> }>();
  readonly #stopping = new AbortController();

  constructor(options: OriginFillOptions) {
    this.#o = options;
  }

  /** Aborts the shared origin fetches (shutdown). */
  stop(): void {
    this.#stopping.abort(new Error('cache stopping'));
  }

  // Each reader can still give up on its own; the buffer goes back to the pool when the last of
  // them lets go.
  async read(file: FileRow, idx: number, signal?: AbortSignal): Promise<ChunkLease> {
    const { shared, done } = this.#join(file, idx);
    shared.retain();
    try {
      const data =
        signal === undefined
          ? await done
          : await raceSignal(
              done,
              signal,
              () => new OriginError('aborted', null, `read ${file.path}: request aborted`),
            );
      return lease(data, shared);
    } catch (error) {
      // Gave up early: the fetch may still be filling the buffer, so let go only when it settles.
      done.then(
        () => shared.release(),
        () => shared.release(),
      );
      throw error;
    }
  }

  #join(file: FileRow, idx: number): { shared: SharedBuffer; done: Promise<Buffer> } {
    const key = `${file.path}\0${file.mtimeMs}\0${file.size}\0${idx}`;
    let fetch = this.#fetches.get(key);
    if (fetch === undefined) {
      const shared = new SharedBuffer(this.#o.buffers);
      const done = this.#fetchAndStore(file, idx, shared).finally(() => {
        this.#fetches.delete(key);
        shared.release(); // the fetch's own reference
      });
      fetch = { shared, done };
      this.#fetches.set(key, fetch);
    }
    return fetch;
  }

  async #fetchAndStore(file: FileRow, idx: number, shared: SharedBuffer): Promise<Buffer> {
    const { start, length } = chunkSpan(this.#o.chunkSize, file, idx);
    let value: Buffer;
    try {
      ({ value } = await this.#o.pool.read(file.path, start, length, this.#stopping.signal, shared.buffer));
    } catch (error) {
      shared.discard(); // an abandoned attempt may still write into it
      throw error;
    }
    if (value.buffer !== shared.buffer.buffer) shared.discard(); // served by a failover attempt
    if (!this.#o.passthrough.active) await this.#o.writer.write(file.path, idx, value);
    return value;
  }
}
