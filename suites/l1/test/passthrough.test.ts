// passthrough: when the cache dir cannot be written (EACCES at startup or at runtime, or write
// errors in a row), reads go straight to the origin with correct bytes, status says so, and a
// probe brings the cache back once the directory is writable again. Fault: a faulty fs
// (createFaultyFs over the real node:fs/promises) handed to media-cache as deps.fs.
import { join } from 'node:path';
import { createFaultyFs } from '@faultline/faults';
import type { FsLike } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  chunkFiles,
  cleanup,
  controlRequest,
  httpGet,
  httpOrigin,
  json,
  originWithMedia,
  startCache,
  tempDir,
  waitFor,
  writeMedia,
} from './helpers.ts';

afterEach(cleanup);

describe('passthrough', () => {
  test('a cache dir that is not writable at startup: reads go to the origin, then the cache comes back', {
    tags: ['passthrough'],
  }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const faults = createFaultyFs([{ failOn: ['mkdir', 'open'], error: 'EACCES', path: chunksDir }]);
    const { mc, media } = await startCache({ dir, deps: { fs: faults.fs as FsLike } });
    expect(faults.control.injected).toBeGreaterThanOrEqual(1);
    const status = json<{ passthrough: { active: boolean; reason: string } }>(
      await controlRequest(mc.controlSocket, 'GET', '/'),
    );
    expect(status.passthrough.active).toBe(true);
    expect(status.passthrough.reason).toMatch(/unusable \(EACCES\)/);
    expect(json<{ passthrough: boolean }>(await httpGet(`${mc.httpUrl}/healthz`)).passthrough).toBe(true);

    const data = await writeMedia(media, 'song.mp3', 2 * CHUNK + 7);
    for (let i = 0; i < 2; i++) {
      const reply = await httpGet(`${mc.httpUrl}/files/song.mp3`);
      expect(reply.status).toBe(200);
      expect(reply.body.equals(data)).toBe(true);
    }
    expect(mc.status().counters.passthroughReads).toBe(6); // 3 chunks x 2 reads, none from the cache
    expect(mc.status().counters.hits).toBe(0);
    expect(mc.index.chunkCount).toBe(0);
    expect(await chunkFiles(chunksDir)).toEqual([]);

    faults.control.heal();
    await waitFor('the probe to end passthrough', () => !mc.status().passthrough.active, 3_000);
    expect((await httpGet(`${mc.httpUrl}/files/song.mp3`)).body.equals(data)).toBe(true);
    expect(mc.index.chunkCount).toBe(3);
    expect((await httpGet(`${mc.httpUrl}/files/song.mp3`)).body.equals(data)).toBe(true);
    expect(mc.status().counters.hits).toBe(3);
  });

  test('EACCES on a chunk write at runtime switches to passthrough: even cached files come from the origin', {
    tags: ['passthrough'],
  }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const { files, origin } = await originWithMedia({ 'cached.bin': CHUNK, 'fresh.bin': CHUNK });
    const { 'cached.bin': cached, 'fresh.bin': fresh } = files;
    const faults = createFaultyFs([]);
    const { mc } = await startCache({
      dir,
      config: { origins: [httpOrigin('web', origin.url)] },
      deps: { fs: faults.fs as FsLike },
    });
    expect((await httpGet(`${mc.httpUrl}/files/cached.bin`)).body.equals(cached)).toBe(true);
    expect((await httpGet(`${mc.httpUrl}/files/cached.bin`)).body.equals(cached)).toBe(true);
    expect(mc.status().counters.hits).toBe(1);

    faults.control.setRules([{ failOn: 'open', error: 'EACCES', path: chunksDir }]);
    const reply = await httpGet(`${mc.httpUrl}/files/fresh.bin`);
    expect(faults.control.injected).toBeGreaterThanOrEqual(1);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(fresh)).toBe(true);
    expect(mc.status().passthrough).toMatchObject({ active: true });
    expect(mc.status().passthrough.reason).toMatch(/not writable \(EACCES\)/);

    const before = origin.requests.filter((p) => p === '/cached.bin').length;
    const again = await httpGet(`${mc.httpUrl}/files/cached.bin`);
    expect(again.status).toBe(200);
    expect(again.body.equals(cached)).toBe(true);
    // Straight to the origin: the cached copy was not touched, the origin served the bytes.
    expect(origin.requests.filter((p) => p === '/cached.bin').length).toBeGreaterThan(before);
    expect(mc.status().counters.hits).toBe(1);
    expect(mc.status().counters.passthroughReads).toBeGreaterThanOrEqual(1);
  });

  test('five chunk writes failing with EIO in a row switch to passthrough', { tags: ['passthrough'] }, async () => {
    const dir = await tempDir();
    const chunksDir = join(dir, 'cache', 'chunks');
    const faults = createFaultyFs([]);
    const { mc, media } = await startCache({ dir, deps: { fs: faults.fs as FsLike } });
    const data = await writeMedia(media, 'big.bin', 8 * CHUNK);
    faults.control.setRules([{ failOn: 'handle.sync', error: 'EIO', path: chunksDir }]);
    const reply = await httpGet(`${mc.httpUrl}/files/big.bin`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
    expect(faults.control.injected).toBeGreaterThanOrEqual(5); // plus any passthrough probe since
    expect(mc.status().counters.chunkWriteErrors).toBe(5);
    expect(mc.status().passthrough.active).toBe(true);
    expect(mc.status().passthrough.reason).toMatch(/5 chunk writes failed in a row/);
    expect(mc.status().counters.passthroughReads).toBe(3); // chunks 5..7 skipped the cache
    expect(await chunkFiles(chunksDir)).toEqual([]); // no torn or temp files left behind
  });
});
