import type { Readable } from 'node:stream';
import { BufferPool, type ChunkLease } from './buffer-pool.ts';
import { type CacheCounters, type IndexGuard, indexGuard, zeroCounters } from './cache-counters.ts';
import { CacheMaintenance } from './cache-maintenance.ts';
import { CacheSpace } from './cache-space.ts';
import { type CachedReadContext, readVerified } from './cached-read.ts';
import type { ChunkStore } from './chunk-store.ts';
import { ChunkWriter } from './chunk-writer.ts';
import { RequestError } from './errors.ts';
import type { CacheIndex, FileRow } from './index-db.ts';
import type { Mutex } from './lock.ts';
import { type Logger, silentLogger } from './log.ts';
import { chunkSpan, OriginFill } from './origin-fill.ts';
import type { OriginPool } from './origins/pool.ts';
import { type PassthroughState, PassthroughSwitch } from './passthrough.ts';

export type { CacheCounters } from './cache-counters.ts';
export type { PassthroughState } from './passthrough.ts';

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

/**
 * Read-through chunk cache. A chunk is served from disk only after its hash checks out; a missing
 * or corrupt chunk is refetched from the origins and replaced. Writes to the cache are
 * best-effort: ENOSPC/EIO/EACCES are counted and contained (the request is still served from the
 * origin), ENOSPC triggers eviction, an unwritable cache dir switches to passthrough.
 *
 * This class routes; the work is in its collaborators: cached-read.ts (serve verified chunks),
 * origin-fill.ts (shared fetches from the origins), chunk-writer.ts (contained write-back),
 * cache-space.ts (reservations and eviction), cache-maintenance.ts (background eviction and the
 * passthrough probe), passthrough.ts.
 */
export class ReadThroughCache {
  readonly store: ChunkStore;
  readonly index: CacheIndex;
  readonly pool: OriginPool;
  readonly options: ReadThroughCacheOptions;
  readonly counters: CacheCounters = zeroCounters();
  readonly buffers: BufferPool;
  readonly #guard: IndexGuard;
  readonly #switch: PassthroughSwitch;
  readonly #space: CacheSpace;
  readonly #maintenance: CacheMaintenance;
  readonly #writer: ChunkWriter;
  readonly #fill: OriginFill;
  readonly #cached: CachedReadContext;

  constructor(options: ReadThroughCacheOptions) {
    this.options = options;
    const { store, index, pool, chunkSize, log = silentLogger, onChange } = options;
    const counters = this.counters;
    this.store = store;
    this.index = index;
    this.pool = pool;
    this.buffers = new BufferPool(chunkSize);
    const guard = indexGuard(counters, log);
    this.#guard = guard;
    this.#switch = new PassthroughSwitch({
      log,
      entered: () => this.kick(),
      left: () => this.#writer.resetErrors(),
      changed: onChange,
    });
    const passthrough = this.#switch;
    const space = new CacheSpace({ ...options, counters, log });
    this.#space = space;
    this.#maintenance = new CacheMaintenance({ ...options, space, passthrough, log });
    const maintenance = this.#maintenance;
    this.#writer = new ChunkWriter({ ...options, space, maintenance, passthrough, counters, guard, log });
    this.#fill = new OriginFill({ pool, buffers: this.buffers, writer: this.#writer, passthrough, chunkSize });
    this.#cached = { store, index, buffers: this.buffers, counters, guard, log };
    if (options.passthroughReason) this.enterPassthrough(options.passthroughReason);
  }

  get chunkSize(): number {
    return this.options.chunkSize;
  }

  /** Plain data (the status document spreads it). */
  get passthrough(): PassthroughState {
    return this.#switch.state;
  }

  get evictLock(): Mutex {
    return this.#space.evictLock;
  }

  /** Aborts shared origin fetches (shutdown). */
  stop(): void {
    this.#fill.stop();
    this.#maintenance.wake();
  }

  enterPassthrough(reason: string): void {
    this.#switch.enter(reason);
  }

  exitPassthrough(): void {
    this.#switch.exit();
  }

  /** Size and version of a file: from the index when known (works offline), else from the origins. */
  async fileInfo(path: string, signal?: AbortSignal): Promise<FileRow> {
    if (!this.passthrough.active && !this.options.alwaysStatOrigin) {
      const row = this.#guard(() => this.index.getFile(path));
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
    if (!this.passthrough.active) this.#guard(() => this.index.putFile(file));
    return file;
  }

  chunkCount(file: FileRow): number {
    return Math.ceil(file.size / this.chunkSize);
  }

  chunkSpan(file: FileRow, idx: number): { start: number; length: number } {
    return chunkSpan(this.chunkSize, file, idx);
  }

  /**
   * Chunk `idx` of `file`, verified from disk or fetched from the origins (and cached), in a
   * pooled buffer: call `release()` once the bytes are no longer referenced (socket flushed).
   */
  async chunk(file: FileRow, idx: number, signal?: AbortSignal): Promise<ChunkLease> {
    const { length } = this.chunkSpan(file, idx);
    if (this.passthrough.active) {
      this.counters.passthroughReads += 1;
      return this.#fill.read(file, idx, signal);
    }
    const hash = this.#guard(() => this.index.getFileChunk(file.path, idx));
    if (hash !== undefined) {
      const held = await readVerified(this.#cached, file.path, idx, hash, length);
      if (held !== null) return held;
    }
    this.counters.misses += 1;
    return this.#fill.read(file, idx, signal);
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

  /** Evicts least recently used chunks until the cache holds at most `targetBytes`. */
  evictTo(targetBytes: number): Promise<{ chunks: number; bytes: number }> {
    return this.#space.evictTo(targetBytes);
  }

  /**
   * Wakes the maintenance task. `force` (after ENOSPC) evicts even below the high watermark:
   * down to the low watermark or half the current size, whichever is smaller.
   */
  kick(force = false): void {
    this.#maintenance.kick(force);
  }

  /** Supervised maintenance loop: background eviction and the passthrough probe. */
  maintain(signal: AbortSignal): Promise<void> {
    return this.#maintenance.run(signal);
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
    this.#guard(() => this.index.deleteFile(path));
    this.counters.uploads += 1;
    return { size, origin: target.id };
  }
}
