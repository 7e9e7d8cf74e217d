// atomic-chunk: a chunk becomes visible (indexed) only once its file is whole under its final
// name. A failure (or a crash) anywhere between the chunk write and the index insert leaves no
// index row pointing at a missing or partial file; at worst an unnamed file that reconciliation
// deletes. Faults: failpoints `index.before-insert` / `chunk.after-write` / `chunk.before-write`,
// a faulty fs failing the rename and short-writing the temp file, and an fs wrapper that holds
// the rename so the in-between state can be inspected.
import * as realFs from 'node:fs/promises';
import { join } from 'node:path';
import { count } from '@faultline/failpoints';
import { createFaultyFs } from '@faultline/faults';
import { recordFault } from '@faultline/vitest';
import type { FsLike } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  chunkFiles,
  cleanup,
  fail,
  httpGet,
  indexDiskMismatches,
  onCleanup,
  sha256,
  startCache,
  stopCache,
  tempDir,
  waitFor,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

/** Every indexed chunk has its whole file: nothing visible is partial or missing. */
async function visibleChunksWhole(
  mc: { index: { allChunks(): Array<{ hash: string; size: number }> } },
  chunksDir: string,
) {
  const problems: string[] = [];
  for (const c of mc.index.allChunks()) {
    const data = await realFs.readFile(join(chunksDir, c.hash.slice(0, 2), c.hash)).catch(() => null);
    if (data === null) problems.push(`indexed chunk ${c.hash.slice(0, 12)} has no file`);
    else if (data.byteLength !== c.size || sha256(data) !== c.hash)
      problems.push(`indexed chunk ${c.hash.slice(0, 12)} is partial`);
  }
  return problems;
}

describe('atomic-chunk', () => {
  test('an index insert that fails after the chunk rename leaves no orphan and no visible chunk', {
    tags: ['atomic-chunk'],
  }, async () => {
    const { mc, media, chunksDir } = await startCache();
    const data = await writeMedia(media, 'a.bin', CHUNK);
    fail('index.before-insert', '1*return(EIO)');

    const reply = await httpGet(`${mc.httpUrl}/files/a.bin`);
    expect(count('index.before-insert')).toBe(1);
    expect(reply.status).toBe(200); // served from the origin regardless
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.index.getFileChunk('a.bin', 0)).toBeUndefined();
    expect(mc.status().counters.chunkWriteErrors).toBe(1); // counted and contained
    expect(await chunkFiles(chunksDir)).toEqual([]); // the unnamed file was removed at once
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);

    // The next read caches it properly.
    expect((await httpGet(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.index.getFileChunk('a.bin', 0)).toBe(sha256(data));
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('a failed rename of the chunk temp file leaves no index row and no file', {
    tags: ['atomic-chunk'],
  }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const { fs, control } = createFaultyFs([{ failOn: 'rename', error: 'EIO', path: chunksDir, times: 1 }]);
    const { mc, media } = await startCache({ dir, deps: { fs: fs as FsLike } });
    const data = await writeMedia(media, 'b.bin', 2 * CHUNK);

    const reply = await httpGet(`${mc.httpUrl}/files/b.bin`);
    expect(control.injected).toBe(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.status().counters.chunkWriteErrors).toBe(1);
    // Chunk 0 hit the failed rename: it must not be visible; chunk 1 was cached normally.
    expect(await visibleChunksWhole(mc, chunksDir)).toEqual([]);
    expect(mc.index.getFileChunk('b.bin', 0)).toBeUndefined();
    expect(mc.index.getFileChunk('b.bin', 1)).toBe(sha256(data.subarray(CHUNK)));
    expect((await chunkFiles(chunksDir)).filter((f) => f.rel.includes('.tmp-'))).toEqual([]);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('while a chunk is between fsync and rename, the index does not name it', {
    tags: ['atomic-chunk'],
  }, async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    onCleanup(() => release());
    let holding = 0;
    // A wrapper around the real fs: the rename of a chunk temp file waits until the test releases it.
    const gated: FsLike = {
      ...realFs,
      rename: async (from, to) => {
        if (String(from).includes('.tmp-')) {
          holding += 1;
          recordFault({
            kind: 'fs-hold',
            name: 'rename',
            detail: 'held the rename of a durable chunk temp file (the crash window before the index insert)',
            attributes: { path: String(from) },
          });
          await held;
        }
        return realFs.rename(from, to);
      },
    };
    const { mc, media, chunksDir } = await startCache({ deps: { fs: gated } });
    const data = await writeMedia(media, 'c.bin', CHUNK);

    const pending = httpGet(`${mc.httpUrl}/files/c.bin`);
    await waitFor('the chunk write to reach its rename', () => holding === 1);
    // In the window: the temp file is whole and durable, but nothing names the chunk yet.
    expect(mc.index.getFileChunk('c.bin', 0)).toBeUndefined();
    expect(mc.index.hasChunk(sha256(data))).toBe(false);
    expect(await visibleChunksWhole(mc, chunksDir)).toEqual([]);
    const files = await chunkFiles(chunksDir);
    expect(files).toHaveLength(1);
    expect(files[0]!.rel).toContain('.tmp-');

    release();
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.index.getFileChunk('c.bin', 0)).toBe(sha256(data));
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('a crash right after the rename leaves an unnamed file that the next start deletes', {
    tags: ['atomic-chunk'],
  }, async () => {
    const first = await startCache();
    const data = await writeMedia(first.media, 'd.bin', CHUNK);
    // chunk.after-write throws where a crash would stop the process: file renamed, insert never ran.
    fail('chunk.after-write', '1*return(EIO)');
    const reply = await httpGet(`${first.mc.httpUrl}/files/d.bin`);
    expect(count('chunk.after-write')).toBe(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(first.mc.index.getFileChunk('d.bin', 0)).toBeUndefined();
    expect(await visibleChunksWhole(first.mc, first.chunksDir)).toEqual([]);
    expect((await chunkFiles(first.chunksDir)).map((f) => f.rel.split('/')[1])).toEqual([sha256(data)]);
    await stopCache(first.mc);

    const second = await startCache({ dir: first.dir });
    expect(second.mc.startup.reconcile).toMatchObject({ orphansDeleted: 1, missingDropped: 0 });
    expect(await chunkFiles(second.chunksDir)).toEqual([]);
    expect((await httpGet(`${second.mc.httpUrl}/files/d.bin`)).body.equals(data)).toBe(true);
    expect(await indexDiskMismatches(second.mc, second.chunksDir)).toEqual([]);
  });

  test('a short write of the temp file is never renamed into place', { tags: ['atomic-chunk'] }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const { fs, control } = createFaultyFs([
      { failOn: 'handle.write', error: 'EIO', path: chunksDir, times: 1, shortWrite: 1000 },
      { failOn: 'handle.write', error: 'EIO', path: chunksDir, times: 1 },
    ]);
    const { mc, media } = await startCache({ dir, deps: { fs: fs as FsLike } });
    const data = await writeMedia(media, 'e.bin', CHUNK);
    const reply = await httpGet(`${mc.httpUrl}/files/e.bin`);
    expect(control.injected).toBeGreaterThanOrEqual(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.index.getFileChunk('e.bin', 0)).toBeUndefined();
    expect(await chunkFiles(chunksDir)).toEqual([]); // neither a torn chunk nor a temp file
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });
});
