// scan-resume: an origin scan interrupted mid-way resumes from its durable checkpoint, in the
// same process or after a restart, with no duplicates and no gaps: a batch committed but not
// checkpointed is replayed and ignored, and a late (stale) checkpoint write cannot rewind the
// cursor. Faults: failpoints `scan.batch` and `scan.before-checkpoint` (the rescan action fails
// part-way), and a stale checkpoint write injected through the daemon's own CheckpointStore.
import { count, remove } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { type MediaCache, type ScanCursor, type ScanReport, scanKey } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, fail, startCache, stopCache, writeMedia } from './helpers.ts';

afterEach(cleanup);

const FILES = 23;
const BATCH = 5;

async function scanSetup(dir?: string) {
  const s = await startCache({ ...(dir === undefined ? {} : { dir }), config: { scan: { batchSize: BATCH } } });
  const paths: string[] = [];
  if (dir === undefined) {
    for (let i = 0; i < FILES; i++) {
      const path = `dir${i % 3}/file-${String(i).padStart(2, '0')}.ogg`;
      await writeMedia(s.media, path, 10 + i);
      paths.push(path);
    }
  }
  return { ...s, paths: paths.sort() };
}

async function rescan(mc: MediaCache): Promise<ScanReport> {
  const reports = (await mc.action('rescan', { origin: 'local' })) as ScanReport[];
  expect(reports).toHaveLength(1);
  return reports[0]!;
}

/** Every listed path exactly once, seq contiguous from 0: no duplicates, no gaps. */
function expectComplete(mc: MediaCache, scanId: string, paths: string[]): void {
  const entries = mc.index.scanEntries(scanId);
  expect(entries.map((e) => e.path)).toEqual(paths);
  expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(paths.map((_, i) => i));
}

describe('scan-resume', () => {
  test('a scan that fails at its 4th batch resumes after the 3rd, with no duplicates and no gaps', {
    tags: ['scan-resume'],
  }, async () => {
    const { mc, paths } = await scanSetup();
    fail('scan.batch', '3*off->return(EIO)');
    await expect(rescan(mc)).rejects.toThrow(/EIO/);
    expect(count('scan.batch')).toBe(4);
    const { cursor } = await mc.scanner.cursor('local');
    expect(cursor).toMatchObject({ after: paths[14], done: false, count: 15 });

    remove('scan.batch');
    const report = await rescan(mc);
    expect(report).toMatchObject({
      resumed: true,
      resumedAfter: paths[14],
      batches: 2,
      recorded: FILES - 15,
      replayed: 0,
      total: FILES,
      done: true,
    });
    expect(report.scanId).toBe(cursor!.scanId);
    expectComplete(mc, report.scanId, paths);
  });

  test('a batch committed but not checkpointed is replayed and ignored', { tags: ['scan-resume'] }, async () => {
    const { mc, paths } = await scanSetup();
    fail('scan.before-checkpoint', '2*off->return(EIO)');
    await expect(rescan(mc)).rejects.toThrow(/EIO/);
    expect(count('scan.before-checkpoint')).toBe(3);
    const { cursor } = await mc.scanner.cursor('local');
    expect(cursor).toMatchObject({ after: paths[9], count: 10 }); // batch 3 is in SQLite, not in the checkpoint
    expect(mc.index.scanEntries(cursor!.scanId)).toHaveLength(15);

    remove('scan.before-checkpoint');
    const report = await rescan(mc);
    expect(report).toMatchObject({ resumed: true, resumedAfter: paths[9], recorded: FILES - 15, replayed: BATCH });
    expect(report.total).toBe(FILES);
    expectComplete(mc, report.scanId, paths);
  });

  test('after a restart the scan resumes from the durable checkpoint', { tags: ['scan-resume'] }, async () => {
    const first = await scanSetup();
    fail('scan.batch', '2*off->return(ECONNRESET)');
    await expect(rescan(first.mc)).rejects.toThrow(/ECONNRESET/);
    expect(count('scan.batch')).toBe(3);
    const scanId = (await first.mc.scanner.cursor('local')).cursor!.scanId;
    await stopCache(first.mc);
    remove('scan.batch');

    const second = await scanSetup(first.dir);
    const report = await rescan(second.mc);
    expect(report).toMatchObject({ scanId, resumed: true, resumedAfter: first.paths[9], replayed: 0, total: FILES });
    expectComplete(second.mc, scanId, first.paths);

    // The next scan is a fresh one (new scan id) that lists everything again.
    const next = await rescan(second.mc);
    expect(next.scanId).not.toBe(scanId);
    expect(next).toMatchObject({ resumed: false, recorded: FILES, total: FILES });
    expectComplete(second.mc, next.scanId, first.paths);
  });

  test('a late checkpoint write from an earlier attempt cannot rewind the scan', {
    tags: ['scan-resume'],
  }, async () => {
    const { mc, paths } = await scanSetup();
    fail('scan.batch', '3*off->return(EIO)');
    await expect(rescan(mc)).rejects.toThrow(/EIO/);
    expect(count('scan.batch')).toBe(4);
    const now = (await mc.checkpoints.get(scanKey('local')))!;
    const cursor = JSON.parse(now.data!) as ScanCursor;
    expect(cursor.after).toBe(paths[14]);

    // A stale writer (an earlier attempt whose write was delayed) lands its old checkpoint now.
    const stale: ScanCursor = { ...cursor, after: paths[4]!, count: 5 };
    const stored = await mc.checkpoints.put(scanKey('local'), now.seq - 2, JSON.stringify(stale));
    recordFault({
      kind: 'stale-write',
      name: scanKey('local'),
      detail: `late checkpoint write with seq ${now.seq - 2} (cursor after ${paths[4]}) over stored seq ${now.seq}`,
      attributes: { staleSeq: now.seq - 2, storedSeq: now.seq },
    });

    remove('scan.batch');
    const report = await rescan(mc);
    // Resumed where the scan really was: nothing listed twice, nothing skipped.
    expect(report).toMatchObject({ resumed: true, resumedAfter: paths[14], replayed: 0, recorded: FILES - 15 });
    expectComplete(mc, report.scanId, paths);
    expect(stored.seq).toBe(now.seq); // the stale write was merged away, not stored
  });
});
