import type { Readable } from 'node:stream';
import { BufferPool, type ChunkLease, lease, SharedBuffer } from './buffer-pool.ts';
import type { ChunkRead, ChunkStore } from './chunk-store.ts';
import { raceSignal, sleepUnless } from './deadline.ts';
import {
  errorCode,
  errorMessage,
  isDiskFull,
  isFdExhaustion,
  isUnwritable,
  OriginError,
  RequestError,
} from './errors.ts';
import { fpAsync } from './fail.ts';
import type { CacheIndex, FileRow } from './index-db.ts';
import { Mutex } from './lock.ts';
import { type Logger, silentLogger } from './log.ts';
import type { OriginPool } from './origins/pool.ts';

export interface CacheCounters {
  hits: number;
  misses: number;
  passthroughReads: number;
  chunkCorrupt: number;
  chunkMissing: number;
  cacheReadErrors: number;
  chunkWriteErrors: number;
  diskFullErrors: number;
  indexErrors: number;
  cacheSkips: number;
  evictions: number;
  evictedChunks: number;
  evictedBytes: number;
  uploads: number;
}

export interface PassthroughState {
  active: boolean;
  reason: string | null;
  since: string | null;
}

export interface ReadThroughCacheOptions {
  store: ChunkStore;
  index: CacheIndex;
  pool: OriginPool;
  chunkSize: number;
  maxBytes: number;
  highWatermark: number;
  lowWatermark: number;
  /** unsafe.indexBeforeChunkRename (test-only). */
  indexBeforeChunkRename?: boolean;
  /** unsafe.uncontainedWriteErrors (test-only): a failed chunk write fails the read. */
  uncontainedWriteErrors?: boolean;
  /** unsafe.alwaysStatOrigin (test-only): file info always comes from the origins, never the index. */
  alwaysStatOrigin?: boolean;
  /** How often passthrough mode probes the cache dir to come back (default 5 s). */
  probeIntervalMs?: number;
  /** Start in passthrough (the cache dir could not be created). */
  passthroughReason?: string | null;
  log?: Logger;
  onChange?: () => void;
}

/** After this many chunk writes failing in a row (EIO…), stop writing: passthrough until a probe succeeds. */
const MAX_CONSECUTIVE_WRITE_ERRORS = 5;

/**
 * Read-through chunk cache. A chunk is served from disk only after its hash checks out; a missing
 * or corrupt chunk is refetched from the origins and replaced. Writes to the cache are
 * best-effort: ENOSPC/EIO/EACCES are counted and contained (the request is still served from the
 * origin), ENOSPC triggers eviction, an unwritable cache dir switches to passthrough.
 */
export class ReadThroughCache {
  readonly store: ChunkStore;
  readonly index: CacheIndex;
  readonly pool: OriginPool;
  readonly options: ReadThroughCacheOptions;
  readonly counters: CacheCounters = {
    hits: 0,
    misses: 0,
    passthroughReads: 0,
    chunkCorrupt: 0,
    chunkMissing: 0,
    cacheReadErrors: 0,
    chunkWriteErrors: 0,
    diskFullErrors: 0,
    indexErrors: 0,
    cacheSkips: 0,
    evictions: 0,
    evictedChunks: 0,
    evictedBytes: 0,
    uploads: 0,
  };
  readonly evictLock = new Mutex('eviction');
  readonly passthrough: PassthroughState = { active: false, reason: null, since: null };
  readonly #log: Logger;
  readonly #fetches = new Map<string, { shared: SharedBuffer; done: Promise<Buffer> }>();
  readonly buffers: BufferPool;
  readonly #stopping = new AbortController();
  #reserved = 0;
  #consecutiveWriteErrors = 0;
  #wake: (() => void) | null = null;
  #pending = false;
  #forceEvict = false;
  #passthroughAt = 0;

  constructor(options: ReadThroughCacheOptions) {
    this.options = options;
    this.store = options.store;
    this.index = options.index;
    this.pool = options.pool;
    this.#log = options.log ?? silentLogger;
    this.buffers = new BufferPool(options.chunkSize);
    if (options.passthroughReason) this.enterPassthrough(options.passthroughReason);
  }

  get chunkSize(): number {
    return this.options.chunkSize;
  }

  /** Aborts shared origin fetches (shutdown). */
  stop(): void {
    this.#stopping.abort(new Error('cache stopping'));
    this.#wake?.();
  }

  enterPassthrough(reason: string): void {
    if (this.passthrough.active) return;
    this.passthrough.active = true;
    this.passthrough.reason = reason;
    this.passthrough.since = new Date().toISOString();
    this.#passthroughAt = performance.now();
    this.#log.log('warn', 'passthrough-on', { reason });
    this.options.onChange?.();
    this.kick();
  }

  exitPassthrough(): void {
    if (!this.passthrough.active) return;
    this.#log.log('info', 'passthrough-off', { after: this.passthrough.reason });
    this.passthrough.active = false;
    this.passthrough.reason = null;
    this.passthrough.since = null;
    this.#consecutiveWriteErrors = 0;
    this.options.onChange?.();
  }

  /** Size and version of a file: from the index when known (works offline), else from the origins. */
  async fileInfo(path: string, signal?: AbortSignal): Promise<FileRow> {
    if (!this.passthrough.active && !this.options.alwaysStatOrigin) {
      const row = this.#safeIndex(() => this.index.getFile(path));
      if (row !== undefined && row.chunkSize === this.chunkSize) return row;
    }
    const { value, origin } = await this.pool.stat(path, signal);
    const file: FileRow = {
      path,
      size: value.size,
      mtimeMs: value.mtimeMs,
      chunkSize: this.chunkSize,
      origin: origin.id,
    };
    if (!this.passthrough.active) this.#safeIndex(() => this.index.putFile(file));
    return file;
  }

  chunkCount(file: FileRow): number {
    return Math.ceil(file.size / this.chunkSize);
  }

  chunkSpan(file: FileRow, idx: number): { start: number; length: number } {
    const start = idx * this.chunkSize;
    return { start, length: Math.max(0, Math.min(this.chunkSize, file.size - start)) };
  }

  /**
   * Chunk `idx` of `file`, verified from disk or fetched from the origins (and cached), in a
   * pooled buffer: call `release()` once the bytes are no longer referenced (socket flushed).
   */
  async chunk(file: FileRow, idx: number, signal?: AbortSignal): Promise<ChunkLease> {
    const { length } = this.chunkSpan(file, idx);
    if (this.passthrough.active) {
      this.counters.passthroughReads += 1;
      return this.#shared(file, idx, signal);
    }
    const hash = this.#safeIndex(() => this.index.getFileChunk(file.path, idx));
    if (hash !== undefined) {
      const shared = new SharedBuffer(this.buffers);
      let result: ChunkRead;
      try {
        result = await this.store.readInto(hash, shared.buffer, length);
      } catch (error) {
        shared.release();
        if (isFdExhaustion(error)) throw error;
        this.counters.cacheReadErrors += 1;
        this.#log.log('warn', 'chunk-read-error', { hash, path: file.path, idx, error });
        result = { ok: false, reason: 'corrupt' };
      }
      if (result.ok) {
        this.counters.hits += 1;
        this.#safeIndex(() => this.index.touch(hash));
        return lease(result.data, shared);
      }
      shared.release();
      if (result.reason === 'corrupt') this.counters.chunkCorrupt += 1;
      else this.counters.chunkMissing += 1;
      this.#log.log('warn', `chunk-${result.reason}`, { hash, path: file.path, idx, action: 'refetch from origin' });
      this.#safeIndex(() => this.index.dropChunk(hash));
      if (result.reason === 'corrupt') await this.store.remove(hash).catch(() => {});
    }
    this.counters.misses += 1;
    return this.#shared(file, idx, signal);
  }

  /** Reads a whole chunk into a new Buffer (convenience for tests and tools). */
  async chunkCopy(file: FileRow, idx: number, signal?: AbortSignal): Promise<Buffer> {
    const held = await this.chunk(file, idx, signal);
    try {
      return Buffer.from(held.data);
    } finally {
      held.release();
    }
  }

  // Concurrent readers of the same chunk share one origin fetch (and one buffer); each can still
  // give up on its own, and the buffer goes back to the pool when the last of them lets go.
  async #shared(file: FileRow, idx: number, signal?: AbortSignal): Promise<ChunkLease> {
    const key = `${file.path}\0${file.mtimeMs}\0${file.size}\0${idx}`;
    let fetch = this.#fetches.get(key);
    if (fetch === undefined) {
      const shared = new SharedBuffer(this.buffers);
      const done = this.#fetchAndStore(file, idx, shared).finally(() => {
        this.#fetches.delete(key);
        shared.release(); // the fetch's own reference
      });
      fetch = { shared, done };
      this.#fetches.set(key, fetch);
    }
    const { shared, done } = fetch;
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

  async #fetchAndStore(file: FileRow, idx: number, shared: SharedBuffer): Promise<Buffer> {
    const { start, length } = this.chunkSpan(file, idx);
    let value: Buffer;
    try {
      ({ value } = await this.pool.read(file.path, start, length, this.#stopping.signal, shared.buffer));
    } catch (error) {
      shared.discard(); // an abandoned attempt may still write into it
      throw error;
    }
    if (value.buffer !== shared.buffer.buffer) shared.discard(); // served by a failover attempt
    if (!this.passthrough.active) await this.#storeChunk(file.path, idx, value);
    return value;
  }

  async #storeChunk(path: string, idx: number, data: Buffer): Promise<void> {
    const size = data.byteLength;
    if (!(await this.#reserve(size))) {
      this.counters.cacheSkips += 1;
      return;
    }
    try {
      if (this.options.indexBeforeChunkRename) {
        await this.store.write(data, { beforeRename: (hash) => void this.index.insertChunk(path, idx, hash, size) });
      } else {
        const { hash } = await this.store.write(data);
        try {
          this.index.insertChunk(path, idx, hash, size);
        } catch (error) {
          this.counters.indexErrors += 1;
          // The file is durable but unnamed: remove it now (reconciliation would at restart).
          if (!this.#safeIndex(() => this.index.hasChunk(hash))) await this.store.remove(hash).catch(() => {});
          throw error;
        }
      }
      this.#consecutiveWriteErrors = 0;
      if (this.index.bytes > this.options.highWatermark * this.options.maxBytes) this.kick();
    } catch (error) {
      if (this.options.uncontainedWriteErrors) throw error;
      this.#contain(error, path, idx);
    } finally {
      this.#reserved -= size;
    }
  }

  /** Makes room for `size` more bytes without ever exceeding maxBytes; false when it cannot. */
  async #reserve(size: number): Promise<boolean> {
    const max = this.options.maxBytes;
    if (size > max) return false;
    if (this.index.bytes + this.#reserved + size > max) {
      await this.evictTo(Math.min(this.options.lowWatermark * max, max - size - this.#reserved));
    }
    if (this.index.bytes + this.#reserved + size > max) return false;
    this.#reserved += size;
    return true;
  }

  #contain(error: unknown, path: string, idx: number): void {
    this.counters.chunkWriteErrors += 1;
    this.#consecutiveWriteErrors += 1;
    const code = errorCode(error);
    this.#log.log('warn', 'chunk-write-failed', { path, idx, code, error, contained: true });
    if (isDiskFull(error)) {
      this.counters.diskFullErrors += 1;
      if (this.index.bytes === 0) this.enterPassthrough(`cache disk full (${code}) with nothing left to evict`);
      else this.kick(true);
    } else if (isUnwritable(error)) {
      this.enterPassthrough(`cache dir not writable (${code})`);
    } else if (this.#consecutiveWriteErrors >= MAX_CONSECUTIVE_WRITE_ERRORS && !isFdExhaustion(error)) {
      this.enterPassthrough(
        `${this.#consecutiveWriteErrors} chunk writes failed in a row (last: ${code ?? errorMessage(error)})`,
      );
    }
  }

  #safeIndex<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.counters.indexErrors += 1;
      this.#log.log('error', 'index-error', { error });
      return undefined;
    }
  }

  /** Evicts least recently used chunks until the cache holds at most `targetBytes`. */
  async evictTo(targetBytes: number): Promise<{ chunks: number; bytes: number }> {
    return this.evictLock.withLock(async () => {
      let chunks = 0;
      let bytes = 0;
      while (this.index.bytes > targetBytes) {
        const batch = this.index.lruChunks(64);
        if (batch.length === 0) break;
        for (const c of batch) {
          if (this.index.bytes <= targetBytes) break;
          // Index first, file second: a crash in between leaves an orphan file, never a dangling row.
          bytes += this.index.dropChunk(c.hash);
          chunks += 1;
          await this.store
            .remove(c.hash)
            .catch((error: unknown) => this.#log.log('warn', 'evict-remove-failed', { hash: c.hash, error }));
        }
        await fpAsync('cache.evict');
      }
      if (chunks > 0) {
        this.counters.evictions += 1;
        this.counters.evictedChunks += chunks;
        this.counters.evictedBytes += bytes;
        this.#log.log('info', 'evicted', { chunks, bytes, nowBytes: this.index.bytes, targetBytes });
        this.options.onChange?.();
      }
      return { chunks, bytes };
    });
  }

  /**
   * Wakes the maintenance task. `force` (after ENOSPC) evicts even below the high watermark:
   * down to the low watermark or half the current size, whichever is smaller.
   */
  kick(force = false): void {
    this.#pending = true;
    if (force) this.#forceEvict = true;
    this.#wake?.();
  }

  /** Supervised maintenance loop: background eviction and the passthrough probe. */
  async maintain(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#pending = false;
      const { maxBytes, highWatermark, lowWatermark } = this.options;
      if (this.#forceEvict) {
        this.#forceEvict = false;
        await this.evictTo(Math.min(lowWatermark * maxBytes, Math.floor(this.index.bytes / 2)));
      } else if (this.index.bytes > highWatermark * maxBytes) {
        await this.evictTo(lowWatermark * maxBytes);
      }
      const probeMs = this.options.probeIntervalMs ?? 5_000;
      // The first probe waits one interval: an error that just happened is not retried at once.
      if (this.passthrough.active && performance.now() - this.#passthroughAt >= probeMs) {
        try {
          await this.store.probe();
          this.exitPassthrough();
        } catch (error) {
          this.#log.log('debug', 'passthrough-probe-failed', { error });
        }
      }
      if (this.#pending) continue; // kicked while working: go again before sleeping
      const wake = new AbortController();
      this.#wake = () => wake.abort();
      const idleMs = this.passthrough.active ? probeMs : 60_000;
      await sleepUnless(idleMs, AbortSignal.any([signal, wake.signal]));
      this.#wake = null;
    }
  }

  /** Streams an upload into the first writable local origin, then forgets the cached copy. */
  async upload(path: string, body: Readable, signal: AbortSignal): Promise<{ size: number; origin: string }> {
    const target = this.pool.origins.find(
      (o) => o.kind === 'local' && o.write !== undefined && (o as { writable?: boolean }).writable !== false,
    );
    if (target?.write === undefined) {
      throw new RequestError(501, 'uploads need a writable local origin; add {"type":"local","path":...} to "origins"');
    }
    const { size } = await target.write(path, body, signal);
    this.#safeIndex(() => this.index.deleteFile(path));
    this.counters.uploads += 1;
    return { size, origin: target.id };
  }
}
