/**
 * Chunk-sized buffers, reused. Streaming a 64 MiB file must not leave 64 MiB of garbage for the
 * GC to find later (V8 collects external memory lazily, so RSS would grow by tens of MiB): each
 * chunk is read into a pooled buffer that returns to the pool once the socket has flushed it.
 */
export class BufferPool {
  readonly size: number;
  readonly maxFree: number;
  readonly #free: Buffer[] = [];
  allocated = 0;

  constructor(size: number, maxFree = 16) {
    this.size = size;
    this.maxFree = maxFree;
  }

  take(): Buffer {
    const buf = this.#free.pop();
    if (buf !== undefined) return buf;
    this.allocated += 1;
    // allocUnsafeSlow: the buffer owns its memory (not a slice of Node's shared 8 KiB pool).
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(buf: Buffer): void {
    if (buf.byteLength === this.size && this.#free.length < this.maxFree && !this.#free.includes(buf))
      this.#free.push(buf);
  }

  get free(): number {
    return this.#free.length;
  }
}

/** A reference-counted pooled buffer: shared by concurrent readers of one chunk, returned at zero. */
export class SharedBuffer {
  readonly buffer: Buffer;
  readonly #pool: BufferPool;
  #refs = 1;
  #discarded = false;

  constructor(pool: BufferPool) {
    this.#pool = pool;
    this.buffer = pool.take();
  }

  retain(): void {
    this.#refs += 1;
  }

  release(): void {
    // A second release by one holder would hand the buffer to the pool while another reader still
    // holds it: fail loudly where the bug is rather than serve another chunk's bytes later.
    if (this.#refs === 0) throw new Error('SharedBuffer released more often than it was retained');
    this.#refs -= 1;
    if (this.#refs === 0 && !this.#discarded) this.#pool.give(this.buffer);
  }

  /** Never return this buffer to the pool (an abandoned write may still land in it). */
  discard(): void {
    this.#discarded = true;
  }
}

/** What a reader holds: the bytes, and a release to call once they are no longer referenced. */
export interface ChunkLease {
  readonly data: Buffer;
  release(): void;
}

export function lease(data: Buffer, shared: SharedBuffer): ChunkLease {
  let released = false;
  return {
    data,
    release() {
      if (released) return;
      released = true;
      shared.release();
    },
  };
}
