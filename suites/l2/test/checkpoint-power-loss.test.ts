// checkpoint-monotonic under power loss: the seed-001 waves (4 writer processes sharing ONE
// checkpoint file through media-cache's CheckpointStore, each journaling every acknowledged put)
// where each SIGKILL wave ends with a power loss: the crash harness's preload journals the
// writers' fs calls under the state dir and rewinds it to its durable state before the checks.
// Every acknowledged seq must survive, the file must parse, the next wave must get the lock (the
// dead writer's lock comes back torn) and no key may move backwards.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkDurability,
  journalLength,
  maxValue,
  powerLoss,
  runWaves,
  type StoredValue,
  spawnManaged,
  type Violation,
  type WavesReport,
} from '@faultline/crash';
import { expect, test } from 'vitest';
import { tempDir, useDaemonCleanup } from './helpers.ts';

useDaemonCleanup();

const WRITER = join(import.meta.dirname, 'fixtures', 'checkpoint-writer.ts');
const WRITERS = 4;

function storedSeq(file: string, key: string): StoredValue {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  try {
    const seq = (JSON.parse(raw) as { entries?: Record<string, { seq?: unknown }> }).entries?.[key]?.seq;
    if (seq === undefined) return { state: 'missing' };
    return typeof seq === 'number' ? { state: 'ok', value: seq } : { state: 'torn', reason: `seq ${seq}`, raw: '' };
  } catch (error) {
    return { state: 'torn', reason: `does not parse: ${(error as Error).message}`, raw: raw.slice(0, 80) };
  }
}

/** Two waves (wave 2 restarts from lower seqs), each ending with SIGKILL and a power loss. */
async function powerLossWaves(env: Record<string, string> = {}): Promise<WavesReport> {
  const dir = await tempDir();
  const state = join(dir, 'state');
  mkdirSync(state);
  const file = join(state, 'checkpoints.json');
  const key = (i: number) => `scan/writer-${i}`;
  const journal = (wave: number, i: number) => join(dir, `journal-${i}-wave${wave}.log`);
  const power = powerLoss({ root: state, journalDir: join(dir, 'power-loss') });
  const previous: Array<number | undefined> = [];
  try {
    return await runWaves({
      waves: 2,
      when: { randomMs: [100, 400] },
      powerLoss: power,
      spawn: (wave) =>
        Array.from({ length: WRITERS }, (_, i) =>
          spawnManaged(
            { self: WRITER, role: 'checkpoint-writer' },
            [file, journal(wave, i), key(i), String(wave === 1 ? 1000 : 0)],
            {
              name: `writer-${i}`,
              powerLoss: power,
              env,
            },
          ),
        ),
      progress: (i, _w, wave) => {
        const lengths = Array.from({ length: WRITERS }, (_, j) => journalLength(journal(wave, j)));
        return lengths.every((n) => n > 0) ? lengths[i]! : 0;
      },
      progressLabel: 'journaled put',
      verify: (wave, result) => {
        const found: Violation[] = [];
        for (let i = 0; i < WRITERS; i++) {
          const stored = storedSeq(file, key(i));
          found.push(
            ...checkDurability({
              subject: `key ${key(i)} (wave ${wave}, after the power loss)`,
              stored,
              journaled: maxValue(journal(wave, i)),
              previous: previous[i],
            }),
          );
          if (stored.state === 'ok') previous[i] = stored.value;
        }
        const lost = result.powerLoss!;
        console.log(
          `[checkpoint power loss] wave ${wave}: ${lost.ops} ops journaled, removed ${lost.removed.length}, restored ${lost.restored.length}, rolled back ${lost.rolledBack.length}; violations ${found.length}`,
        );
        return found;
      },
    });
  } finally {
    power.dispose();
  }
}

test('SIGKILL + power loss waves over 4 checkpoint writers: acknowledged seqs survive, the file parses, never backwards', {
  tags: ['checkpoint-monotonic'],
}, async () => {
  const report = await powerLossWaves();
  expect(report.violations, report.violations.map((v) => v.detail).join('\n')).toEqual([]);
  expect(report.waves).toHaveLength(2);
  for (const w of report.waves) {
    expect(w.workers.every((k) => k.exit.signal === 'SIGKILL')).toBe(true);
    expect(w.powerLoss!.ops).toBeGreaterThan(0);
  }
});

// Negative controls (untagged): each fsync the store does is needed.
test('control: without the fsync before the rename, the file is caught torn after the power loss', async () => {
  const report = await powerLossWaves({ FAULTLINE_BREAK: 'skipCheckpointFsync' });
  expect(report.violations.map((v) => v.kind)).toContain('torn');
});

test('control: without the directory fsync, acknowledged seqs are caught lost after the power loss', async () => {
  const report = await powerLossWaves({ FAULTLINE_BREAK: 'skipDirFsync' });
  expect(report.violations.length).toBeGreaterThan(0);
});
