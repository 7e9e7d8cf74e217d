// disk-full: ENOSPC on a chunk write is contained (the request is still served from the origin,
// the error is counted), it starts an eviction, and the cache never holds more than maxBytes.
// Fault: a faulty fs (createFaultyFs over the real node:fs/promises) failing chunk writes with
// ENOSPC, handed to media-cache as deps.fs.
import { createFaultyFs } from '@faultline/faults';
import type { FsLike } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  chunkFiles,
  cleanup,
  httpGet,
  indexDiskMismatches,
  startCache,
  tempDir,
  waitFor,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

async function faultyCache(maxChunks: number) {
  const dir = await tempDir();
  const chunksDir = `${dir}/cache/chunks`;
  const faults = createFaultyFs([]);
  const started = await startCache({
    dir,
    config: { cache: { maxBytes: maxChunks * CHUNK, highWatermark: 0.9, lowWatermark: 0.5 } },
    deps: { fs: faults.fs as FsLike },
  });
  return { ...started, chunksDir, faults };
}

describe('disk-full', () => {
  test('ENOSPC on a chunk write is served from the origin, counted, and frees space by eviction', {
    tags: ['disk-full'],
  }, async () => {
    const { mc, media, chunksDir, faults } = await faultyCache(16);
    const a = await writeMedia(media, 'a.bin', 6 * CHUNK);
    const b = await writeMedia(media, 'b.bin', 2 * CHUNK);
    expect((await httpGet(`${mc.httpUrl}/files/a.bin`)).body.equals(a)).toBe(true);
    expect(mc.index.bytes).toBe(6 * CHUNK);

    faults.control.setRules([{ failOn: 'handle.write', error: 'ENOSPC', path: chunksDir, times: 1 }]);
    const reply = await httpGet(`${mc.httpUrl}/files/b.bin`);
    expect(faults.control.injected).toBe(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(b)).toBe(true);
    const counters = mc.status().counters;
    expect(counters.diskFullErrors).toBe(1);
    expect(counters.chunkWriteErrors).toBe(1);

    // ENOSPC kicks the maintenance task: down to min(low watermark, half the cache).
    // 6 chunks were cached when ENOSPC struck, well below the high watermark (14.4): it evicts anyway.
    await waitFor('an eviction after ENOSPC', () => mc.status().counters.evictions >= 1, 3_000);
    expect(mc.status().counters.evictedBytes).toBeGreaterThanOrEqual(3 * CHUNK);
    expect(mc.index.bytes).toBeLessThanOrEqual(4 * CHUNK); // half of 6, plus b's second chunk
    expect(mc.status().passthrough.active).toBe(false); // there was something to evict: no passthrough
    expect(mc.supervisor.task('cache-maintenance')?.state).toBe('running');

    // With space freed, writes work again and the index still matches the disk.
    expect((await httpGet(`${mc.httpUrl}/files/b.bin`)).body.equals(b)).toBe(true);
    expect(mc.index.getFileChunk('b.bin', 0)).toBeDefined();
    expect((await chunkFiles(chunksDir)).filter((f) => f.rel.includes('.tmp-'))).toEqual([]);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('under concurrent reads and repeated ENOSPC the cache never exceeds maxBytes', {
    tags: ['disk-full'],
  }, async () => {
    const MAX_CHUNKS = 5;
    const { mc, media, chunksDir, faults } = await faultyCache(MAX_CHUNKS);
    const files = await Promise.all(
      Array.from({ length: 6 }, (_, i) => writeMedia(media, `f${i}.bin`, 3 * CHUNK - i * 100)),
    );
    // Warm up sequentially: the cache fills past its max and evicts as it goes.
    for (let i = 0; i < 2; i++) expect((await httpGet(`${mc.httpUrl}/files/f${i}.bin`)).status).toBe(200);
    expect(mc.index.bytes).toBeGreaterThan(0);
    faults.control.setRules([{ failOn: 'handle.write', error: 'ENOSPC', path: chunksDir, after: 1, times: 3 }]);

    let maxSeen = 0;
    const sampler = setInterval(() => {
      maxSeen = Math.max(maxSeen, mc.index.bytes);
    }, 1);
    try {
      for (let round = 0; round < 2; round++) {
        const replies = await Promise.all(files.map((_, i) => httpGet(`${mc.httpUrl}/files/f${i}.bin`)));
        replies.forEach((r, i) => {
          expect(r.status).toBe(200);
          expect(r.body.equals(files[i]!)).toBe(true);
        });
        maxSeen = Math.max(maxSeen, mc.index.bytes);
        const onDisk = (await chunkFiles(chunksDir)).reduce((sum, f) => sum + f.size, 0);
        expect(onDisk).toBeLessThanOrEqual(MAX_CHUNKS * CHUNK);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(faults.control.injected).toBeGreaterThanOrEqual(1);
    expect(mc.status().counters.diskFullErrors).toBeGreaterThanOrEqual(1);
    expect(maxSeen).toBeGreaterThan(0);
    expect(maxSeen).toBeLessThanOrEqual(MAX_CHUNKS * CHUNK);
    expect(mc.status().counters.evictions).toBeGreaterThanOrEqual(1);
    await waitFor('maintenance to settle', async () => (await indexDiskMismatches(mc, chunksDir)).length === 0, 3_000);
  });

  test('ENOSPC with nothing left to evict switches to passthrough, and a probe switches it back', {
    tags: ['disk-full'],
  }, async () => {
    const { mc, media, chunksDir, faults } = await faultyCache(8);
    const c = await writeMedia(media, 'c.bin', CHUNK);
    faults.control.setRules([{ failOn: 'handle.write', error: 'ENOSPC', path: chunksDir }]);
    const reply = await httpGet(`${mc.httpUrl}/files/c.bin`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(c)).toBe(true);
    expect(faults.control.injected).toBeGreaterThanOrEqual(1);
    expect(mc.status().passthrough).toMatchObject({ active: true });
    expect(mc.status().passthrough.reason).toMatch(/disk full \(ENOSPC\)/);
    // Still served (straight from the origin) while the disk stays full.
    expect((await httpGet(`${mc.httpUrl}/files/c.bin`)).body.equals(c)).toBe(true);
    expect(mc.status().counters.passthroughReads).toBeGreaterThanOrEqual(1);

    faults.control.heal();
    await waitFor('the probe to end passthrough', () => !mc.status().passthrough.active, 3_000);
    expect((await httpGet(`${mc.httpUrl}/files/c.bin`)).body.equals(c)).toBe(true);
    expect(mc.index.getFileChunk('c.bin', 0)).toBeDefined();
  });
});
