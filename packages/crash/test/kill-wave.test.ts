import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureEvidence } from '@faultline/evidence';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  CrashError,
  installOrphanGuard,
  journalLength,
  killWave,
  lastValue,
  runWaves,
  spawnManaged,
} from '../src/index.ts';
import { fixture, tempDir } from './helpers.ts';

installOrphanGuard(afterEach);
const tmp = tempDir();
afterAll(tmp.cleanup);
const workers = fixture('workers.ts');

function journalWorkers(label: string, n: number) {
  const journals = Array.from({ length: n }, (_, i) => join(tmp.dir, `${label}-${i}.log`));
  const procs = journals.map((j, i) =>
    spawnManaged({ self: workers, role: 'journal' }, [j, '5'], { name: `${label}-${i}` }),
  );
  return { journals, procs, progress: (i: number) => journalLength(journals[i]!) };
}

describe('kill waves', () => {
  test('SIGKILLs every worker after observed progress and records evidence per kill', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const { journals, procs, progress } = journalWorkers('progress', 3);
      const result = await killWave({
        workers: procs,
        progress,
        when: { afterProgress: 5, observeMs: 100 },
        wave: 7,
        seed: 1,
      });
      expect(result.wave).toBe(7);
      expect(result.workers).toHaveLength(3);
      for (const [i, k] of result.workers.entries()) {
        expect(k.exit).toEqual({ code: null, signal: 'SIGKILL' });
        expect(k.progress).toBe(journalLength(journals[i]!));
        expect(k.progress).toBeGreaterThanOrEqual(k.progressAtSignal);
      }
      expect(Math.max(...result.workers.map((k) => k.progress))).toBeGreaterThanOrEqual(5);
      // Dead workers write nothing more.
      const lengths = journals.map((j) => journalLength(j));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(journals.map((j) => journalLength(j))).toEqual(lengths);
      expect(log.entries).toHaveLength(3);
      const first = result.workers[0]!;
      expect(log.entries[0]).toMatchObject({
        kind: 'kill',
        name: 'progress-0',
        detail: `pid ${first.pid} got SIGKILL after journal line ${first.progress} (wave 7)`,
        source: '@faultline/crash',
        attributes: { pid: first.pid, signal: 'SIGKILL', wave: 7, progress: first.progress, seed: 1 },
      });
      // Each journal ends at the line its worker reached: a worker killed before its first line
      // (possible on a loaded machine; the wave needs progress from one) has an empty journal.
      for (const [i, k] of result.workers.entries()) {
        expect(lastValue(journals[i]!)).toBe(k.progress > 0 ? k.progress - 1 : undefined);
      }
    } finally {
      restore();
    }
  });

  test('seeded random timing: the delay is the replayable one for (seed, wave)', async () => {
    const { procs, progress } = journalWorkers('random', 2);
    const result = await killWave({ workers: procs, progress, when: { randomMs: [20, 300] }, seed: 77, wave: 2 });
    const again = (await import('../src/index.ts')).waveDelayMs(77, 2, [20, 300]);
    expect(result.delayMs).toBe(again);
    expect(result.seed).toBe(77);
  });

  test('SIGTERM waves are recorded as signals', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const { procs, progress } = journalWorkers('term', 2);
      const result = await killWave({ workers: procs, progress, signal: 'SIGTERM', when: { observeMs: 0 } });
      expect(result.workers.map((k) => k.exit.signal)).toEqual(['SIGTERM', 'SIGTERM']);
      expect(log.entries.map((e) => e.kind)).toEqual(['signal', 'signal']);
    } finally {
      restore();
    }
  });

  test('vacuity guard: a worker that died before the kill fails the wave (and nothing leaks)', async () => {
    const { procs, progress } = journalWorkers('early', 1);
    const early = spawnManaged({ self: workers, role: 'exit-early' }, [], { name: 'quitter' });
    await early.exited; // died before the wave, on a loaded machine too
    await expect(
      killWave({ workers: [...procs, early], progress: (i) => (i === 0 ? progress(0) : 0) }),
    ).rejects.toThrow(
      expect.objectContaining({
        kind: 'vacuous',
        message: expect.stringMatching(
          /kill wave 1: pid \d+ \(quitter\) exited with code 3 before the SIGKILL; workers must loop until killed.*giving up at once/,
        ),
      }),
    );
    expect(procs[0]!.running).toBe(false);
  });

  test('vacuity guard: progress left in a journal by an earlier wave does not count while the workers are idle', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const journal = join(tmp.dir, 'earlier-wave.log');
      writeFileSync(journal, Array.from({ length: 40 }, (_, i) => `${i}\n`).join(''));
      const idle = [0, 1].map((i) => spawnManaged({ self: workers, role: 'idle' }, [], { name: `stale-${i}` }));
      await expect(
        killWave({ workers: idle, progress: () => journalLength(journal), progressTimeoutMs: 800, wave: 2 }),
      ).rejects.toThrow(
        expect.objectContaining({
          kind: 'vacuous',
          message: expect.stringMatching(
            /kill wave 2: no worker moved its journal line past where it was when the wave started \(stale-0=40 \(from 40\), stale-1=40 \(from 40\)\)/,
          ),
        }),
      );
      expect(idle.every((p) => !p.running)).toBe(true);
      expect(log.entries).toEqual([]);
    } finally {
      restore();
    }
  });

  test('progress is counted from the wave’s start: a journal continued from an earlier wave must grow', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const journal = join(tmp.dir, 'continued.log');
      writeFileSync(journal, Array.from({ length: 40 }, (_, i) => `${i}\n`).join(''));
      const [proc] = [spawnManaged({ self: workers, role: 'journal' }, [journal, '5'], { name: 'continued' })];
      const result = await killWave({
        workers: [proc!],
        progress: () => journalLength(journal),
        when: { afterProgress: 5, observeMs: 0 },
        wave: 2,
      });
      const k = result.workers[0]!;
      expect(k.baseline).toBeGreaterThanOrEqual(40);
      expect(k.progressAtSignal - k.baseline).toBeGreaterThanOrEqual(5);
      expect(log.entries[0]!.attributes).toMatchObject({ baseline: k.baseline, progress: k.progress });
    } finally {
      restore();
    }
  });

  test('vacuity guard: no progress within the bound fails the wave with every worker’s progress', async () => {
    const idle = [0, 1].map((i) => spawnManaged({ self: workers, role: 'idle' }, [], { name: `idle-${i}` }));
    await expect(
      killWave({ workers: idle, progress: () => 0, progressTimeoutMs: 1500, wave: 3, progressLabel: 'checkpoint' }),
    ).rejects.toThrow(
      expect.objectContaining({
        kind: 'vacuous',
        message: expect.stringMatching(
          /kill wave 3: no worker reached checkpoint 1 within 1500 ms \(idle-0=0, idle-1=0\); a kill now would prove nothing/,
        ),
      }),
    );
    expect(idle.every((p) => !p.running)).toBe(true);
  });

  test('a wave with nothing to kill is vacuous, a bad wave count is a usage error', async () => {
    const empty = await killWave({ workers: [], progress: () => 0 }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(CrashError);
    expect(empty).toMatchObject({ kind: 'vacuous', message: 'kill wave 1: no workers given' });
    await expect(runWaves({ waves: 0, spawn: () => [], progress: () => 0 })).rejects.toMatchObject({
      kind: 'usage',
      message: 'runWaves: waves must be a positive integer, got 0',
    });
  });
});
