// scan-resume rests on a durable checkpoint: a cursor the store acknowledged must survive a
// power loss, or a resumed scan starts from an older cursor (or from nothing). media-cache's
// CheckpointStore runs on @faultline/faults' power-loss fs; the power goes out while a put is
// in flight (it fails at `checkpoint.before-rename`), then a fresh store must read at least every
// acknowledged seq, parse the file and take the lock again (the lock the dead writer held comes
// back torn: its owner bytes were never fsynced).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { count } from '@faultline/failpoints';
import { createPowerLossFs, type PowerLossReport } from '@faultline/faults';
import { type CheckpointFs, CheckpointStore, type UnsafeConfig } from 'media-cache';
import { afterEach, describe, expect, test } from 'vitest';
import { brokenSwitches, cleanup, fail, tempDir } from './helpers.ts';

afterEach(cleanup);

const KEY = 'scan/local';

/** A store on `fs` with the given unsafe switches, FAULTLINE_BREAK's on top (the honesty hook). */
function storeOn(file: string, fs: CheckpointFs, unsafe: Partial<UnsafeConfig>): CheckpointStore {
  const all = { ...unsafe, ...brokenSwitches() };
  return new CheckpointStore(file, {
    fs,
    lockTimeoutMs: 3_000,
    monotonic: !all.nonMonotonicCheckpoint,
    unsafe: { skipCheckpointFsync: all.skipCheckpointFsync ?? false, skipDirFsync: all.skipDirFsync ?? false },
  });
}

interface Outcome {
  acknowledged: number;
  /** What a fresh store reads after the power loss: a seq, 'missing' or the error. */
  after: number | 'missing' | string;
  report: PowerLossReport;
  /** Whether a put after the power loss got the lock and stored. */
  writable: boolean;
}

async function putsThenPowerLoss(unsafe: Partial<UnsafeConfig> = {}): Promise<Outcome> {
  const dir = join(await tempDir(), 'state');
  await mkdir(dir);
  const file = join(dir, 'checkpoints.json');
  const power = createPowerLossFs({ root: dir });
  const store = storeOn(file, power.fs, unsafe);
  let acknowledged = 0;
  for (const seq of [10, 20, 30]) acknowledged = (await store.put(KEY, seq)).seq;
  fail('checkpoint.before-rename', '1*return(EIO)');
  await expect(store.put(KEY, 40)).rejects.toMatchObject({ code: 'EIO' });
  expect(count('checkpoint.before-rename')).toBe(1);

  const report = power.powerLoss();
  const fresh = storeOn(file, power.fs, unsafe);
  let after: Outcome['after'];
  try {
    after = (await fresh.get(KEY))?.seq ?? 'missing';
  } catch (error) {
    after = (error as Error).message;
  }
  const writable = await fresh.put('scan/other', 1).then(
    () => true,
    () => false,
  );
  console.log(
    `[checkpoint power loss ${JSON.stringify(unsafe)}] acknowledged ${acknowledged}, after ${after}, writable ${writable}`,
  );
  return { acknowledged, after, report, writable };
}

describe('checkpoint: power loss', () => {
  test('an acknowledged checkpoint survives a power loss; the file parses and the store takes the lock again', {
    tags: ['scan-resume'],
  }, async () => {
    const { acknowledged, after, report, writable } = await putsThenPowerLoss();
    // the power loss discarded what was in flight (lock files the dead put removed come back)
    expect(report.restored.length + report.removed.length + report.rolledBack.length).toBeGreaterThan(0);
    expect(acknowledged).toBe(30);
    expect(after).toBe(30);
    expect(writable).toBe(true);
  });

  // Negative controls (untagged: they cover nothing).
  test('control: without the fsync before the rename, the checkpoint file comes back empty', async () => {
    const { after } = await putsThenPowerLoss({ skipCheckpointFsync: true });
    expect(after).toMatch(/not valid JSON/);
  });

  test('control: without the directory fsync after the rename, the acknowledged cursor is gone', async () => {
    const { after } = await putsThenPowerLoss({ skipDirFsync: true });
    expect(after).toBe('missing');
  });
});
