import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorCode, isFdExhaustion, OriginError } from '../errors.ts';
import { type FsLike, fsyncDir, realFs } from '../fs.ts';
import { Reclaimer } from '../reclaim.ts';
import type { ListPage, Origin, OriginEntry, OriginStat } from './types.ts';

export interface LocalOriginOptions {
  id: string;
  root: string;
  priority?: number;
  writable?: boolean;
  fs?: FsLike;
}

function abortError(id: string, signal: AbortSignal): OriginError {
  return new OriginError('aborted', id, `origin "${id}": operation aborted`, { cause: signal.reason });
}

/** A directory on this machine. Uploads land here atomically (temp file, fsync, rename). */
export class LocalOrigin implements Origin {
  readonly id: string;
  readonly kind = 'local' as const;
  readonly priority: number;
  readonly root: string;
  readonly writable: boolean;
  readonly fs: FsLike;

  constructor(options: LocalOriginOptions) {
    this.id = options.id;
    this.root = options.root;
    this.priority = options.priority ?? 0;
    this.writable = options.writable ?? true;
    this.fs = options.fs ?? realFs;
  }

  #classify(error: unknown, path: string, op: string): OriginError {
    if (error instanceof OriginError) return error;
    const code = errorCode(error);
    const where = `origin "${this.id}" (${this.root}): ${op} ${path}`;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      return new OriginError('not-found', this.id, `${where}: not found`, { cause: error });
    }
    if (isFdExhaustion(error)) {
      return new OriginError('fd-exhausted', this.id, `${where}: out of file descriptors (${code})`, { cause: error });
    }
    return new OriginError('unavailable', this.id, `${where}: ${code ?? String(error)}`, { cause: error });
  }

  async stat(path: string, signal: AbortSignal): Promise<OriginStat> {
    if (signal.aborted) throw abortError(this.id, signal);
    try {
      const st = await this.fs.stat(join(this.root, path));
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      return { size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    } catch (error) {
      throw this.#classify(error, path, 'stat');
    }
  }

  async read(path: string, start: number, length: number, signal: AbortSignal, into?: Buffer): Promise<Buffer> {
    if (signal.aborted) throw abortError(this.id, signal);
    let handle: FileHandle | undefined;
    try {
      handle = await this.fs.open(join(this.root, path), 'r');
      const buffer = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
      let offset = 0;
      while (offset < length) {
        if (signal.aborted) throw abortError(this.id, signal);
        const { bytesRead } = await handle.read(buffer, offset, length - offset, start + offset);
        if (bytesRead === 0) {
          throw new OriginError(
            'unavailable',
            this.id,
            `origin "${this.id}": ${path} ended at ${start + offset}, expected ${start + length} bytes (file changed?)`,
          );
        }
        offset += bytesRead;
      }
      return buffer;
    } catch (error) {
      throw this.#classify(error, path, 'read');
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  async list(after: string | null, limit: number, signal: AbortSignal): Promise<ListPage> {
    const all: OriginEntry[] = [];
    const walk = async (rel: string): Promise<void> => {
      if (signal.aborted) throw abortError(this.id, signal);
      const names = await this.fs.readdir(rel === '' ? this.root : join(this.root, rel));
      for (const name of names) {
        if (name.includes('.upload-')) continue; // an upload in progress is not a file yet
        const child = rel === '' ? name : `${rel}/${name}`;
        const st = await this.fs.stat(join(this.root, child));
        if (st.isDirectory()) await walk(child);
        else if (st.isFile()) all.push({ path: child, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      }
    };
    try {
      await walk('');
    } catch (error) {
      throw this.#classify(error, '/', 'list');
    }
    // Byte order, so the cursor comparison below agrees with the sort.
    all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const rest = after === null ? all : all.filter((e) => e.path > after);
    const entries = rest.slice(0, limit);
    const next = rest.length > limit ? entries[entries.length - 1]!.path : null;
    return { entries, next };
  }

  async check(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw abortError(this.id, signal);
    try {
      const st = await this.fs.stat(this.root);
      if (!st.isDirectory()) throw Object.assign(new Error(`${this.root} is not a directory`), { code: 'ENOTDIR' });
    } catch (error) {
      throw this.#classify(error, this.root, 'health check');
    }
  }

  /** Streams `body` into the origin with bounded memory; the file appears only when complete. */
  async write(path: string, body: Readable, signal: AbortSignal): Promise<{ size: number }> {
    if (!this.writable) {
      throw new OriginError(
        'unavailable',
        this.id,
        `origin "${this.id}" is read-only (writable: false); uploads need a writable local origin`,
      );
    }
    const final = join(this.root, path);
    const temp = join(dirname(final), `.upload-${process.pid}-${randomBytes(4).toString('hex')}`);
    let done = false;
    try {
      await this.fs.mkdir(dirname(final), { recursive: true });
      const handle = await this.fs.open(temp, 'w');
      let size = 0;
      const reclaim = new Reclaimer();
      try {
        // One awaited write per incoming buffer: the socket is paused while the disk catches up.
        for await (const chunk of body) {
          if (signal.aborted) throw abortError(this.id, signal);
          const buf = chunk as Buffer;
          let offset = 0;
          while (offset < buf.byteLength) {
            const { bytesWritten } = await handle.write(buf, offset, buf.byteLength - offset, size + offset);
            offset += bytesWritten;
          }
          size += buf.byteLength;
          reclaim.note(buf.byteLength);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.fs.rename(temp, final);
      done = true;
      await fsyncDir(this.fs, dirname(final));
      return { size };
    } catch (error) {
      throw this.#classify(error, path, 'write');
    } finally {
      if (!done) await this.fs.unlink(temp).catch(() => {});
    }
  }
}
