// restart-reconcile: at start the index and the chunk files are brought back into agreement:
// orphan chunk files (no index row) are deleted, index rows whose file is missing or has the
// wrong size are dropped, temp files of interrupted writes and stray names are deleted; every
// file is then served with correct bytes. Faults: the chunk directory of a stopped instance
// tampered with by hand, and a `chunk.after-write` failure leaving a real unnamed chunk.
import { mkdir, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  chunkFiles,
  cleanup,
  fail,
  httpGet,
  indexDiskMismatches,
  mediaBytes,
  sha256,
  startCache,
  stopCache,
  writeAndCache,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

describe('restart-reconcile', () => {
  test('orphans, missing and torn chunks, temp files and strays are reconciled at start', {
    tags: ['restart-reconcile'],
  }, async () => {
    const first = await startCache();
    const files = await writeAndCache(first, { 'a.bin': 2 * CHUNK, 'b.bin': 2 * CHUNK + 3, 'c.bin': CHUNK });
    const chunkOf = (path: string, idx: number) => first.mc.index.getFileChunk(path, idx)!;
    const missing = chunkOf('a.bin', 1);
    const torn = chunkOf('b.bin', 0);
    const indexedBefore = first.mc.index.chunkCount;
    expect(indexedBefore).toBe(6);
    await stopCache(first.mc);

    const dir = first.chunksDir;
    const at = (hash: string) => join(dir, hash.slice(0, 2), hash);
    const orphanData = mediaBytes('orphan', 1000);
    const orphan = sha256(orphanData);
    await mkdir(join(dir, orphan.slice(0, 2)), { recursive: true });
    await writeFile(at(orphan), orphanData);
    await unlink(at(missing));
    await truncate(at(torn), 100);
    await writeFile(`${at(orphan)}.tmp-4242-deadbeef`, orphanData.subarray(0, 10));
    await writeFile(join(dir, orphan.slice(0, 2), 'README.stray'), 'not a chunk');
    recordFault({
      kind: 'disk-tamper',
      name: 'chunks',
      detail: 'while stopped: added an orphan chunk, deleted one, truncated one, left a temp file and a stray',
      attributes: { orphan, missing, torn },
    });

    const second = await startCache({ dir: first.dir });
    expect(second.mc.startup.reconcile).toMatchObject({
      orphansDeleted: 1,
      missingDropped: 1,
      mismatchedDropped: 1,
      tempFilesDeleted: 1,
      straysDeleted: 1,
    });
    expect(second.mc.status().startup.reconcile?.orphansDeleted).toBe(1);
    expect(second.mc.index.chunkCount).toBe(indexedBefore - 2);
    expect(second.mc.index.hasChunk(missing)).toBe(false);
    expect(second.mc.index.hasChunk(torn)).toBe(false);
    expect(second.mc.index.getFileChunk('a.bin', 1)).toBeUndefined();
    expect(await indexDiskMismatches(second.mc, dir)).toEqual([]);
    expect((await chunkFiles(dir)).map((f) => f.rel).filter((r) => !/^[0-9a-f]{2}\/[0-9a-f]{64}$/.test(r))).toEqual([]);

    // Every file is served with the origin's bytes; the dropped chunks are refetched, not misread.
    for (const [name, data] of Object.entries(files)) {
      const reply = await httpGet(`${second.mc.httpUrl}/files/${name}`);
      expect(reply.status).toBe(200);
      expect(reply.body.equals(data)).toBe(true);
    }
    const counters = second.mc.status().counters;
    expect(counters.chunkCorrupt + counters.chunkMissing).toBe(0); // reconcile caught them all first
    expect(counters.misses).toBe(2);
    expect(second.mc.index.chunkCount).toBe(indexedBefore);
    expect(await indexDiskMismatches(second.mc, dir)).toEqual([]);
  });

  test('an unnamed chunk left by a failure between rename and index insert is deleted at restart', {
    tags: ['restart-reconcile'],
  }, async () => {
    const first = await startCache();
    const data = await writeMedia(first.media, 'x.bin', 2 * CHUNK);
    fail('chunk.after-write', '1*return(EIO)');
    expect((await httpGet(`${first.mc.httpUrl}/files/x.bin`)).body.equals(data)).toBe(true);
    expect(count('chunk.after-write')).toBe(1);
    expect(first.mc.index.chunkCount).toBe(1);
    expect(await chunkFiles(first.chunksDir)).toHaveLength(2); // one named, one orphan
    await stopCache(first.mc);

    const second = await startCache({ dir: first.dir });
    expect(second.mc.startup.reconcile).toMatchObject({ orphansDeleted: 1, missingDropped: 0, mismatchedDropped: 0 });
    expect(await chunkFiles(second.chunksDir)).toHaveLength(1);
    expect(await indexDiskMismatches(second.mc, second.chunksDir)).toEqual([]);
    expect((await httpGet(`${second.mc.httpUrl}/files/x.bin`)).body.equals(data)).toBe(true);
  });

  test('the reconcile action repairs drift at runtime too', { tags: ['restart-reconcile'] }, async () => {
    const { mc, media, chunksDir } = await startCache();
    const data = await writeMedia(media, 'y.bin', 3 * CHUNK);
    expect((await httpGet(`${mc.httpUrl}/files/y.bin`)).body.equals(data)).toBe(true);
    const gone = mc.index.getFileChunk('y.bin', 2)!;
    await unlink(join(chunksDir, gone.slice(0, 2), gone));
    recordFault({
      kind: 'disk-tamper',
      name: 'chunks',
      detail: `deleted chunk ${gone.slice(0, 12)} under a running daemon`,
    });
    const report = (await mc.action('reconcile')) as { missingDropped: number; orphansDeleted: number };
    expect(report).toMatchObject({ missingDropped: 1, orphansDeleted: 0 });
    expect(mc.index.hasChunk(gone)).toBe(false);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
    expect((await httpGet(`${mc.httpUrl}/files/y.bin`)).body.equals(data)).toBe(true);
  });
});
