// atomic-chunk under power loss: SIGKILL keeps the page cache, so a chunk writer that skips the
// fsync before its rename, or the directory fsync after it, looks whole after any kill. A power
// loss does not keep it. The daemon runs on @faultline/faults' power-loss fs (tracking the chunk
// directory; the SQLite index lives outside it and syncs itself); the power goes out while a
// chunk write is in flight, and every chunk the index names must still be whole on disk.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from '@faultline/failpoints';
import { createPowerLossFs, type PowerLossReport } from '@faultline/faults';
import type { FsLike, UnsafeConfig } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK, cleanup, fail, httpGet, sha256, startCache, stopCache, tempDir, writeMedia } from './helpers.ts';

afterEach(cleanup);

interface Outcome {
  /** Indexed chunks whose file is missing or not whole right after the power loss. */
  lost: string[];
  report: PowerLossReport;
  reconcile: Record<string, unknown> | null;
  hits: number;
  servedWhole: boolean;
}

/**
 * Caches a 3-chunk file, then has a fourth chunk write fail at its index insert (the store
 * unlinks the renamed chunk: an unlink nobody made durable) and cuts the power. `unsafe` turns
 * a protection off for the negative controls; FAULTLINE_BREAK switches apply on top (startCache).
 */
async function cachedThenPowerLoss(unsafe: Partial<UnsafeConfig> = {}): Promise<Outcome> {
  const dir = await tempDir();
  const chunksDir = join(dir, 'cache', 'chunks');
  await mkdir(chunksDir, { recursive: true });
  const power = createPowerLossFs({ root: chunksDir });
  const fs = power.fs as FsLike;
  const first = await startCache({ dir, deps: { fs }, config: { unsafe } });
  const data = await writeMedia(first.media, 'a.bin', 3 * CHUNK);
  expect((await httpGet(`${first.mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
  const indexed = first.mc.index.allChunks();
  expect(indexed).toHaveLength(3);

  await writeMedia(first.media, 'b.bin', CHUNK);
  fail('index.before-insert', '1*return(EIO)');
  expect((await httpGet(`${first.mc.httpUrl}/files/b.bin`)).status).toBe(200);
  expect(count('index.before-insert')).toBe(1);
  await stopCache(first.mc); // the machine dies: nothing more is written through this instance

  const report = power.powerLoss();
  const lost: string[] = [];
  for (const c of indexed) {
    const bytes = await readFile(join(chunksDir, c.hash.slice(0, 2), c.hash)).catch(() => null);
    if (bytes === null) lost.push(`${c.hash.slice(0, 12)} missing`);
    else if (bytes.byteLength !== c.size || sha256(bytes) !== c.hash)
      lost.push(`${c.hash.slice(0, 12)} torn (${bytes.byteLength} of ${c.size} bytes)`);
  }

  const second = await startCache({ dir, deps: { fs }, config: { unsafe } });
  const reply = await httpGet(`${second.mc.httpUrl}/files/a.bin`);
  const outcome = {
    lost,
    report,
    reconcile: second.mc.startup.reconcile as Record<string, unknown> | null,
    hits: second.mc.status().counters.hits,
    servedWhole: reply.body.equals(data),
  };
  console.log(
    `[atomic-chunk power loss${Object.keys(unsafe).length ? ` ${Object.keys(unsafe).join(',')}` : ''}] ${JSON.stringify({ ...outcome, report: undefined })}`,
  );
  return outcome;
}

describe('atomic-chunk: power loss', () => {
  test('a power loss mid-write loses no indexed chunk: every one is whole, the restart serves them from disk', {
    tags: ['atomic-chunk'],
  }, async () => {
    const { lost, report, reconcile, hits, servedWhole } = await cachedThenPowerLoss();
    // the power loss really discarded something: the unlink of the failed chunk was not durable
    expect(report.restored.length + report.removed.length + report.rolledBack.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(reconcile).toMatchObject({ missingDropped: 0, mismatchedDropped: 0 });
    expect(hits).toBe(3); // served from the surviving chunks, not refetched
    expect(servedWhole).toBe(true);
  });

  // Negative controls (untagged: they cover nothing): each removed protection must be caught.
  test('control: without the fsync before the rename, indexed chunks come back empty', async () => {
    const { lost, report } = await cachedThenPowerLoss({ skipChunkFsync: true });
    expect(report.rolledBack.length).toBeGreaterThan(0);
    expect(lost).toHaveLength(3);
    expect(lost.every((l) => l.includes('torn (0 of'))).toBe(true);
  });

  test('control: without the directory fsync after the rename, indexed chunks are gone', async () => {
    const { lost, report } = await cachedThenPowerLoss({ skipDirFsync: true });
    expect(report.removed.length).toBeGreaterThan(0);
    expect(lost).toHaveLength(3);
    expect(lost.every((l) => l.endsWith('missing'))).toBe(true);
  });
});
