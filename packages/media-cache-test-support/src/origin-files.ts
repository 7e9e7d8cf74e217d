// Where a static origin's files come from: a directory on disk (what the l1 suite and the unit
// tests serve) or a map in memory (the l3 suite's origins behind Toxiproxy, with a fixed mtime so
// every origin reports the same file identically).
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface OriginFile {
  size: number;
  mtimeMs: number;
  /** Bytes `start..end` (inclusive). */
  slice(start: number, end: number): Promise<Buffer>;
  /** Streams bytes `start..end` (inclusive); when absent the origin sends `slice`. */
  stream?(start: number, end: number): Readable;
}

export interface OriginFiles {
  /** The file at `path` (relative, `/`-separated), or null. */
  get(path: string): Promise<OriginFile | null>;
  /** Every file, for the origin's `/list`; an origin without it answers `/list` with 404. */
  list?(): Array<{ path: string; size: number; mtimeMs: number }>;
}

/** Files under `root` on disk, read on each request (a test may change them between reads). */
export function diskFiles(root: string): OriginFiles {
  return {
    async get(rel) {
      const path = join(root, rel);
      const st = await stat(path).catch(() => null);
      if (st === null || !st.isFile() || !path.startsWith(root)) return null;
      return {
        size: st.size,
        mtimeMs: Math.floor(st.mtimeMs),
        async slice(start, end) {
          const fh = await open(path, 'r');
          try {
            const buf = Buffer.alloc(end - start + 1);
            await fh.read(buf, 0, buf.byteLength, start);
            return buf;
          } finally {
            await fh.close();
          }
        },
        stream: (start, end) => createReadStream(path, { start, end }),
      };
    },
  };
}

/** The fixed mtime of in-memory files. */
export const MEMORY_MTIME_MS = 1_700_000_000_000;

/** Files held in `files` (path → bytes); the map is read on each request. */
export function memoryFiles(files: ReadonlyMap<string, Buffer>): OriginFiles {
  return {
    async get(path) {
      const data = files.get(path);
      if (data === undefined) return null;
      return { size: data.byteLength, mtimeMs: MEMORY_MTIME_MS, slice: async (s, e) => data.subarray(s, e + 1) };
    },
    list: () =>
      [...files.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([path, data]) => ({ path, size: data.byteLength, mtimeMs: MEMORY_MTIME_MS })),
  };
}
