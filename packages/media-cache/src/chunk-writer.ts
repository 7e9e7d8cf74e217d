// Best-effort write-back of fetched chunks: a failed write is counted and contained (the reader is
// still served from the origin); ENOSPC triggers eviction, an unwritable dir or a run of failures
// switches to passthrough.
import type { CacheCounters, IndexGuard } from './cache-counters.ts';
import type { CacheMaintenance } from './cache-maintenance.ts';
import type { CacheSpace } from './cache-space.ts';
import type { ChunkStore } from './chunk-store.ts';
import { errorCode, errorMessage, isDiskFull, isFdExhaustion, isUnwritable } from './errors.ts';
import type { CacheIndex } from './index-db.ts';
import type { Logger } from './log.ts';
import type { PassthroughSwitch } from './passthrough.ts';

/** After this many chunk writes failing in a row (EIO…), stop writing: passthrough until a probe succeeds. */
const MAX_CONSECUTIVE_WRITE_ERRORS = 5;

export interface ChunkWriterOptions {
  store: ChunkStore;
  index: CacheIndex;
  space: CacheSpace;
  maintenance: CacheMaintenance;
  passthrough: PassthroughSwitch;
  counters: CacheCounters;
  guard: IndexGuard;
  log: Logger;
  /** unsafe.indexBeforeChunkRename (test-only). */
  indexBeforeChunkRename?: boolean;
  /** unsafe.uncontainedWriteErrors (test-only): a failed chunk write fails the read. */
  uncontainedWriteErrors?: boolean;
}

export class ChunkWriter {
  readonly #o: ChunkWriterOptions;
  #consecutiveErrors = 0;

  constructor(options: ChunkWriterOptions) {
    this.#o = options;
  }

  /** Passthrough ended: the failures that led there no longer count. */
  resetErrors(): void {
    this.#consecutiveErrors = 0;
  }

  async write(path: string, idx: number, data: Buffer): Promise<void> {
    const { space, counters } = this.#o;
    const size = data.byteLength;
    if (!(await space.reserve(size))) {
      counters.cacheSkips += 1;
      return;
    }
    try {
      await this.#writeAndIndex(path, idx, data);
      this.#consecutiveErrors = 0;
      if (space.aboveHighWatermark) this.#o.maintenance.kick();
    } catch (error) {
      if (this.#o.uncontainedWriteErrors) throw error;
      this.#contain(error, path, idx);
    } finally {
      space.release(size);
    }
  }

  async #writeAndIndex(path: string, idx: number, data: Buffer): Promise<void> {
    const { store, index } = this.#o;
    const size = data.byteLength;
    if (this.#o.indexBeforeChunkRename) {
      await store.write(data, { beforeRename: (hash) => void index.insertChunk(path, idx, hash, size) });
      return;
    }
    const { hash } = await store.write(data);
    try {
      index.insertChunk(path, idx, hash, size);
    } catch (error) {
      this.#o.counters.indexErrors += 1;
      // The file is durable but unnamed: remove it now (reconciliation would at restart).
      if (!this.#o.guard(() => index.hasChunk(hash))) await store.remove(hash).catch(() => {});
      throw error;
    }
  }

  #contain(error: unknown, path: string, idx: number): void {
    const { counters, passthrough } = this.#o;
    counters.chunkWriteErrors += 1;
    this.#consecutiveErrors += 1;
    const code = errorCode(error);
    this.#o.log.log('warn', 'chunk-write-failed', { path, idx, code, error, contained: true });
    if (isDiskFull(error)) {
      counters.diskFullErrors += 1;
      if (this.#o.index.bytes === 0) passthrough.enter(`cache disk full (${code}) with nothing left to evict`);
      else this.#o.maintenance.kick(true);
    } else if (isUnwritable(error)) {
      passthrough.enter(`cache dir not writable (${code})`);
    } else if (this.#consecutiveErrors >= MAX_CONSECUTIVE_WRITE_ERRORS && !isFdExhaustion(error)) {
      passthrough.enter(
        `${this.#consecutiveErrors} chunk writes failed in a row (last: ${code ?? errorMessage(error)})`,
      );
    }
  }
}
