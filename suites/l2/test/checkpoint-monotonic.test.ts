// checkpoint-monotonic (seed 001, ported): 4 writer processes share ONE checkpoint file through
// media-cache's CheckpointStore, each on its own key, journaling every acknowledged put. A seeded
// SIGKILL wave lands after observed progress; then the file must parse, every key must hold at
// least what its writer journaled, and a second wave whose writers restart from 0 must never
// move any key backwards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkDurability,
  journalLength,
  maxValue,
  runWaves,
  type StoredValue,
  spawnManaged,
  type Violation,
  type WavesReport,
} from '@faultline/crash';
import { CheckpointStore } from 'media-cache';
import { expect, test } from 'vitest';
import { tempDir, useDaemonCleanup } from './helpers.ts';

useDaemonCleanup();

const WRITER = join(import.meta.dirname, 'fixtures', 'checkpoint-writer.ts');
const WRITERS = 4;
/** Wave 1 writes from 1000 up, wave 2 restarts from 0: every put of wave 2 tries to move a key back. */
const START = (wave: number) => (wave === 1 ? 1000 : 0);

/** The stored seq of `key`, read straight from the file (a parse failure is "torn"). */
function storedSeq(file: string, key: string): StoredValue {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  let parsed: { version?: unknown; entries?: Record<string, { seq?: unknown }> };
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch (error) {
    return { state: 'torn', reason: `does not parse: ${(error as Error).message}`, raw: raw.slice(0, 80) };
  }
  if (parsed.version !== 1 || parsed.entries === null || typeof parsed.entries !== 'object') {
    return { state: 'torn', reason: 'not {"version":1,"entries":{...}}', raw: raw.slice(0, 80) };
  }
  const seq = parsed.entries[key]?.seq;
  if (seq === undefined) return { state: 'missing' };
  return typeof seq === 'number' ? { state: 'ok', value: seq } : { state: 'torn', reason: `seq ${seq}`, raw: '' };
}

async function twoWaves(role: 'checkpoint-writer' | 'checkpoint-writer-lww') {
  const dir = await tempDir();
  const file = join(dir, 'checkpoints.json');
  const key = (i: number) => `scan/writer-${i}`;
  const journal = (wave: number, i: number) => join(dir, `journal-${i}-wave${wave}.log`);
  const previous: Array<number | undefined> = [];
  const storedAfter: number[][] = [];
  const report: WavesReport = await runWaves({
    waves: 2,
    when: { randomMs: [100, 400] }, // seeded by FAULTLINE_SEED: the same run replays
    spawn: (wave) =>
      Array.from({ length: WRITERS }, (_, i) =>
        spawnManaged({ self: WRITER, role: role }, [file, journal(wave, i), key(i), String(START(wave))], {
          name: `writer-${i}`,
        }),
      ),
    // A wave counts as progressing only once EVERY writer has journaled a put, so the checks
    // below bite on all 4 keys in both waves (the seeded delay starts from that moment).
    progress: (i, _worker, wave) => {
      const lengths = Array.from({ length: WRITERS }, (_, j) => journalLength(journal(wave, j)));
      return lengths.every((n) => n > 0) ? lengths[i]! : 0;
    },
    progressLabel: 'journaled put',
    verify: (wave) => {
      const found: Violation[] = [];
      const row: number[] = [];
      for (let i = 0; i < WRITERS; i++) {
        const stored = storedSeq(file, key(i));
        found.push(
          ...checkDurability({
            subject: `key ${key(i)} (wave ${wave})`,
            stored,
            journaled: maxValue(journal(wave, i)),
            previous: previous[i],
          }),
        );
        if (stored.state === 'ok') previous[i] = stored.value;
        row.push(stored.state === 'ok' ? stored.value : Number.NaN);
      }
      storedAfter.push(row);
      return found;
    },
  });
  return { dir, file, report, storedAfter, journal };
}

test('SIGKILL waves over 4 checkpoint writers: the file parses, stored >= journaled, never backwards across waves', {
  tags: ['checkpoint-monotonic'],
}, async () => {
  const { file, report, storedAfter, journal } = await twoWaves('checkpoint-writer');
  for (const w of report.waves) {
    const progress = w.workers.map((k) => `${k.name}=${k.progress}`).join(' ');
    console.log(
      `[checkpoint-monotonic] wave ${w.wave}: SIGKILL after ${w.delayMs} ms (seed ${w.seed}); journaled puts ${progress}`,
    );
  }
  console.log(`[checkpoint-monotonic] stored seq per key after each wave: ${JSON.stringify(storedAfter)}`);
  expect(report.violations, report.violations.map((v) => v.detail).join('\n')).toEqual([]);
  expect(report.waves).toHaveLength(2);
  // both waves did real work under contention, and every writer really died by SIGKILL
  for (const w of report.waves) {
    expect(w.workers.every((k) => k.exit.signal === 'SIGKILL')).toBe(true);
    expect(w.workers.some((k) => k.progress > 0)).toBe(true);
  }
  // wave 2 writers journaled values below what wave 1 left: the merge must have refused them
  const wave2Tried = Array.from({ length: WRITERS }, (_, i) => maxValue(journal(2, i))).filter(
    (v): v is number => v !== undefined,
  );
  expect(wave2Tried.length).toBeGreaterThan(0);
  expect(Math.min(...wave2Tried)).toBeLessThan(1000);
  // the store is still usable after two kill waves (stale locks of dead writers are broken)
  const store = new CheckpointStore(file, { lockTimeoutMs: 5_000 });
  const entries = await store.readAll();
  expect(Object.keys(entries).length).toBeGreaterThan(0);
  const first = Object.keys(entries)[0]!;
  const after = await store.put(first, 0);
  expect(after.seq).toBe(entries[first]!.seq);
});

// Negative control: the same waves with last-writer-wins writers must be caught regressing, or
// the test above could not fail. Not tagged: it covers nothing.
test('control: last-writer-wins writers are caught moving a key backwards in wave 2', async () => {
  const { report } = await twoWaves('checkpoint-writer-lww');
  const kinds = report.violations.map((v) => v.kind);
  console.log(`[checkpoint-monotonic control] violations: ${report.violations.map((v) => v.detail).join('; ')}`);
  expect(kinds).toContain('regressed');
});
