// Space accounting of the chunk cache: reservations for writes in flight, so the cache never
// exceeds maxBytes, and LRU eviction.
import type { CacheCounters } from './cache-counters.ts';
import type { ChunkStore } from './chunk-store.ts';
import { fpAsync } from './fail.ts';
import type { CacheIndex } from './index-db.ts';
import { Mutex } from './lock.ts';
import type { Logger } from './log.ts';

export interface CacheSpaceOptions {
  store: ChunkStore;
  index: CacheIndex;
  counters: CacheCounters;
  maxBytes: number;
  highWatermark: number;
  lowWatermark: number;
  log: Logger;
  onChange?: () => void;
}

export class CacheSpace {
  readonly evictLock = new Mutex('eviction');
  readonly #o: CacheSpaceOptions;
  #reserved = 0;

  constructor(options: CacheSpaceOptions) {
    this.#o = options;
  }

  get aboveHighWatermark(): boolean {
    return this.#o.index.bytes > this.#o.highWatermark * this.#o.maxBytes;
  }

  /** Makes room for `size` more bytes without ever exceeding maxBytes; false when it cannot. */
  async reserve(size: number): Promise<boolean> {
    const max = this.#o.maxBytes;
    if (size > max) return false;
    if (this.#o.index.bytes + this.#reserved + size > max) {
      await this.evictTo(Math.min(this.#o.lowWatermark * max, max - size - this.#reserved));
    }
    if (this.#o.index.bytes + this.#reserved + size > max) return false;
    this.#reserved += size;
    return true;
  }

  /** Gives back a reservation once its write has landed in the index (or failed). */
  release(size: number): void {
    this.#reserved -= size;
  }

  /** Evicts least recently used chunks until the cache holds at most `targetBytes`. */
  async evictTo(targetBytes: number): Promise<{ chunks: number; bytes: number }> {
    const { index, store, log, counters } = this.#o;
    return this.evictLock.withLock(async () => {
      let chunks = 0;
      let bytes = 0;
      while (index.bytes > targetBytes) {
        const batch = index.lruChunks(64);
        if (batch.length === 0) break;
        for (const c of batch) {
          if (index.bytes <= targetBytes) break;
          // Index first, file second: a crash in between leaves an orphan file, never a dangling row.
          bytes += index.dropChunk(c.hash);
          chunks += 1;
          await store
            .remove(c.hash)
            .catch((error: unknown) => log.log('warn', 'evict-remove-failed', { hash: c.hash, error }));
        }
        await fpAsync('cache.evict');
      }
      if (chunks > 0) {
        counters.evictions += 1;
        counters.evictedChunks += chunks;
        counters.evictedBytes += bytes;
        log.log('info', 'evicted', { chunks, bytes, nowBytes: index.bytes, targetBytes });
        this.#o.onChange?.();
      }
      return { chunks, bytes };
    });
  }
}
