// chunk-corruption: a chunk file corrupted, truncated or deleted on disk is detected by its
// SHA-256 (and size) on the next read and refetched from the origin; the client only ever gets
// the origin's bytes. Faults are injected by hand on the real chunk files.
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFaultyFs } from '@faultline/faults';
import { recordFault } from '@faultline/vitest';
import type { FsLike } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK, cleanup, httpGet, indexDiskMismatches, sha256, startCache, tempDir, writeMedia } from './helpers.ts';

afterEach(cleanup);

const SIZE = 3 * CHUNK + 1234; // four chunks, the last one short

async function cachedFile() {
  const s = await startCache();
  const data = await writeMedia(s.media, 'album/track.flac', SIZE);
  const first = await httpGet(`${s.mc.httpUrl}/files/album/track.flac`);
  expect(first.status).toBe(200);
  expect(first.body.equals(data)).toBe(true);
  const chunks = s.mc.index.fileChunks('album/track.flac');
  expect(chunks).toHaveLength(4);
  const chunkPath = (hash: string) => join(s.chunksDir, hash.slice(0, 2), hash);
  return { ...s, data, chunks, chunkPath };
}

describe('chunk-corruption', () => {
  test('a chunk whose bytes were flipped on disk is detected by hash and refetched', {
    tags: ['chunk-corruption'],
  }, async () => {
    const { mc, data, chunks, chunkPath, chunksDir } = await cachedFile();
    const victim = chunks[1]!;
    const path = chunkPath(victim.hash);
    const good = await readFile(path);
    const bad = Buffer.from(good);
    for (let i = 0; i < 64; i++) bad[1000 + i] = bad[1000 + i]! ^ 0xff; // same size, different bytes
    await writeFile(path, bad);
    recordFault({
      kind: 'disk-corruption',
      name: 'chunk-bitflip',
      detail: `flipped 64 bytes of cached chunk ${victim.hash.slice(0, 12)} (chunk 1 of album/track.flac)`,
      attributes: { hash: victim.hash, offset: 1000, bytes: 64 },
    });
    expect(sha256(await readFile(path))).not.toBe(victim.hash);
    const hitsBefore = mc.status().counters.hits;

    const again = await httpGet(`${mc.httpUrl}/files/album/track.flac`);
    expect(again.status).toBe(200);
    expect(sha256(again.body)).toBe(sha256(data)); // the corrupt bytes never reached the client
    const counters = mc.status().counters;
    expect(counters.chunkCorrupt).toBe(1);
    expect(counters.hits - hitsBefore).toBe(3); // the three intact chunks still came from disk
    // The chunk was replaced: the file on disk is whole again and the index agrees with the disk.
    expect(sha256(await readFile(path))).toBe(victim.hash);
    expect(mc.index.getFileChunk('album/track.flac', 1)).toBe(victim.hash);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('a range read over a corrupted chunk returns the origin bytes', { tags: ['chunk-corruption'] }, async () => {
    const { mc, data, chunks, chunkPath } = await cachedFile();
    const victim = chunks[2]!;
    const path = chunkPath(victim.hash);
    const bytes = await readFile(path);
    bytes.fill(0, 0, 512);
    await writeFile(path, bytes);
    recordFault({
      kind: 'disk-corruption',
      name: 'chunk-zeroed',
      detail: `zeroed the first 512 bytes of cached chunk ${victim.hash.slice(0, 12)} (chunk 2)`,
      attributes: { hash: victim.hash, bytes: 512 },
    });
    const start = 2 * CHUNK - 100;
    const end = 2 * CHUNK + 700;
    const reply = await httpGet(`${mc.httpUrl}/files/album/track.flac`, {
      headers: { range: `bytes=${start}-${end}` },
    });
    expect(reply.status).toBe(206);
    expect(reply.body.equals(data.subarray(start, end + 1))).toBe(true);
    expect(mc.status().counters.chunkCorrupt).toBe(1);
  });

  test('a truncated chunk (right name, wrong size) is detected and refetched', {
    tags: ['chunk-corruption'],
  }, async () => {
    const { mc, data, chunks, chunkPath, chunksDir } = await cachedFile();
    const victim = chunks[0]!;
    await truncate(chunkPath(victim.hash), CHUNK / 2);
    recordFault({
      kind: 'disk-corruption',
      name: 'chunk-truncated',
      detail: `truncated cached chunk ${victim.hash.slice(0, 12)} to ${CHUNK / 2} bytes`,
      attributes: { hash: victim.hash, size: CHUNK / 2 },
    });
    const reply = await httpGet(`${mc.httpUrl}/files/album/track.flac`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.status().counters.chunkCorrupt).toBe(1);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('a missing chunk file is detected and refetched from the origin', { tags: ['chunk-corruption'] }, async () => {
    const { mc, data, chunks, chunkPath, chunksDir } = await cachedFile();
    const victim = chunks[3]!;
    await unlink(chunkPath(victim.hash));
    recordFault({
      kind: 'disk-corruption',
      name: 'chunk-deleted',
      detail: `deleted cached chunk ${victim.hash.slice(0, 12)} (chunk 3) behind the daemon's back`,
      attributes: { hash: victim.hash },
    });
    const reply = await httpGet(`${mc.httpUrl}/files/album/track.flac`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    const counters = mc.status().counters;
    expect(counters.chunkMissing).toBe(1);
    expect(counters.chunkCorrupt).toBe(0);
    expect(sha256(await readFile(chunkPath(victim.hash)))).toBe(victim.hash);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('a chunk that cannot be read (EIO) is refetched, counted, and its pooled buffer returned once', {
    tags: ['chunk-corruption'],
  }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const faults = createFaultyFs([]);
    const { mc, media } = await startCache({ dir, deps: { fs: faults.fs as FsLike } });
    const data = await writeMedia(media, 'album/track.flac', SIZE);
    expect((await httpGet(`${mc.httpUrl}/files/album/track.flac`)).body.equals(data)).toBe(true);

    faults.control.setRules([{ failOn: 'handle.read', error: 'EIO', path: chunksDir, times: 1 }]);
    const reply = await httpGet(`${mc.httpUrl}/files/album/track.flac`);
    expect(faults.control.injected).toBe(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(mc.status().counters.cacheReadErrors).toBe(1);
    // Released twice, the buffer would go back to the pool while a reader still held it; concurrent
    // readers then see each other's chunks. Every later read must still be byte-exact.
    const replies = await Promise.all(Array.from({ length: 8 }, () => httpGet(`${mc.httpUrl}/files/album/track.flac`)));
    for (const r of replies) expect(sha256(r.body)).toBe(sha256(data));
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });
});
