import { createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode } from './errors.ts';
import { fp } from './fail.ts';
import { type FsLike, fsyncDir, realFs } from './fs.ts';

export interface ChunkStoreOptions {
  /** Root of the store; chunks live at `<dir>/<first two hex>/<sha256 hex>`. */
  dir: string;
  fs?: FsLike;
  /** Check the SHA-256 of every chunk read (default true; false only via `unsafe.skipChunkVerify`). */
  verify?: boolean;
  /**
   * Test-only ways to write a chunk wrongly (the `unsafe` switches of the same names): no fsync
   * before the rename, no directory fsync after it, or no temp file at all. Default: all false.
   */
  unsafe?: { skipChunkFsync?: boolean; skipDirFsync?: boolean; chunkInPlace?: boolean };
}

export interface WriteOptions {
  /**
   * Runs after the temp file is durable and before the rename. Only the `indexBeforeChunkRename`
   * unsafe switch uses it: it is the wrong place for an index insert, on purpose.
   */
  beforeRename?: (hash: string) => void | Promise<void>;
}

export type ChunkRead = { ok: true; data: Buffer } | { ok: false; reason: 'missing' | 'corrupt' };

export interface StoredFile {
  path: string;
  /** The chunk hash, or null for a temp file or a stray name. */
  hash: string | null;
  temp: boolean;
  size: number;
}

const HASH_RE = /^[0-9a-f]{64}$/;
const TEMP_MARK = '.tmp-';

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Content-addressed chunk files. A chunk becomes visible under its final name only by an atomic
 * rename after its bytes were fsynced, so a crash leaves either nothing or a whole chunk (plus a
 * temp file reconciliation deletes). The index insert is the caller's job and comes AFTER `write`.
 */
export class ChunkStore {
  readonly dir: string;
  readonly fs: FsLike;
  verify: boolean;
  readonly #unsafe: NonNullable<ChunkStoreOptions['unsafe']>;

  constructor(options: ChunkStoreOptions) {
    this.dir = options.dir;
    this.fs = options.fs ?? realFs;
    this.verify = options.verify ?? true;
    this.#unsafe = options.unsafe ?? {};
  }

  async init(): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true });
  }

  pathFor(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash);
  }

  /** Writes a chunk atomically (temp, fsync, rename, dir fsync); returns its hash. */
  async write(data: Uint8Array, options: WriteOptions = {}): Promise<{ hash: string; size: number }> {
    fp('chunk.before-write');
    const hash = sha256(data);
    const shard = join(this.dir, hash.slice(0, 2));
    const final = join(shard, hash);
    const inPlace = this.#unsafe.chunkInPlace === true;
    const temp = inPlace ? final : `${final}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
    const made = await this.fs.mkdir(shard, { recursive: true });
    // A new shard directory is itself a new name: durable only once its parent is fsynced.
    if (made !== undefined && !this.#unsafe.skipDirFsync) await fsyncDir(this.fs, this.dir);
    let renamed = false;
    try {
      const handle = await this.fs.open(temp, 'w');
      try {
        fp('chunk.after-open');
        let offset = 0;
        while (offset < data.byteLength) {
          const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset, offset);
          if (bytesWritten <= 0) throw Object.assign(new Error(`short write to ${temp}`), { code: 'EIO' });
          offset += bytesWritten;
        }
        // Without this fsync the rename below can reach the disk before the data: after a power
        // loss the chunk's final name holds an empty or partial file.
        if (!this.#unsafe.skipChunkFsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await options.beforeRename?.(hash);
      if (!inPlace) await this.fs.rename(temp, final);
      renamed = true;
      // Without this the rename is not durable: after a power loss the chunk is gone, though the
      // caller goes on to index it.
      if (!this.#unsafe.skipDirFsync) await fsyncDir(this.fs, shard);
    } finally {
      if (!renamed) await this.fs.unlink(temp).catch(() => {});
    }
    fp('chunk.after-write');
    return { hash, size: data.byteLength };
  }

  /**
   * Reads a chunk and checks it: a missing file or a hash/size mismatch is reported (never
   * served) so the caller refetches from the origin. Other errors (EIO, EMFILE) are thrown.
   */
  async read(hash: string, expectedSize?: number): Promise<ChunkRead> {
    let data: Buffer;
    try {
      data = await this.fs.readFile(this.pathFor(hash));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { ok: false, reason: 'missing' };
      throw error;
    }
    if (this.verify) {
      if (expectedSize !== undefined && data.byteLength !== expectedSize) return { ok: false, reason: 'corrupt' };
      if (sha256(data) !== hash) return { ok: false, reason: 'corrupt' };
    }
    return { ok: true, data };
  }

  /**
   * Like `read`, but into `into` (no allocation): reads at most `into.length` bytes; a file larger
   * than that, or than `expectedSize`, is corrupt.
   */
  async readInto(hash: string, into: Buffer, expectedSize: number): Promise<ChunkRead> {
    let handle: FileHandle;
    try {
      handle = await this.fs.open(this.pathFor(hash), 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { ok: false, reason: 'missing' };
      throw error;
    }
    let size = 0;
    try {
      const room = Math.min(into.byteLength, expectedSize + 1); // one extra byte detects an oversized file
      for (;;) {
        if (size === room) break;
        const { bytesRead } = await handle.read(into, size, room - size, size);
        if (bytesRead === 0) break;
        size += bytesRead;
      }
    } finally {
      await handle.close().catch(() => {});
    }
    const data = into.subarray(0, size);
    if (this.verify && (size !== expectedSize || sha256(data) !== hash)) return { ok: false, reason: 'corrupt' };
    return { ok: true, data: data.subarray(0, Math.min(size, expectedSize)) };
  }

  async remove(hash: string): Promise<boolean> {
    try {
      await this.fs.unlink(this.pathFor(hash));
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async removePath(path: string): Promise<void> {
    await this.fs.unlink(path).catch((error: unknown) => {
      if (errorCode(error) !== 'ENOENT') throw error;
    });
  }

  /** Every file under the store: chunks, temp files left by a crash, and strays. */
  async list(): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    let shards: string[];
    try {
      shards = await this.fs.readdir(this.dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return out;
      throw error;
    }
    for (const shard of shards.sort()) {
      const shardPath = join(this.dir, shard);
      let names: string[];
      try {
        names = await this.fs.readdir(shardPath);
      } catch (error) {
        if (errorCode(error) === 'ENOTDIR' || errorCode(error) === 'ENOENT') continue;
        throw error;
      }
      for (const name of names.sort()) {
        const path = join(shardPath, name);
        const stat = await this.fs.stat(path).catch(() => null);
        if (stat === null || !stat.isFile()) continue;
        const temp = name.includes(TEMP_MARK);
        const hash = !temp && HASH_RE.test(name) && name.startsWith(shard) ? name : null;
        out.push({ path, hash, temp, size: stat.size });
      }
    }
    return out;
  }

  /** Can the store be written right now? Used by passthrough mode to come back. */
  async probe(): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `.probe${TEMP_MARK}${process.pid}`);
    const handle = await this.fs.open(path, 'w');
    try {
      await handle.write(Buffer.from('probe'));
      await handle.sync();
    } finally {
      await handle.close();
      await this.fs.unlink(path).catch(() => {});
    }
  }
}
