// @faultline/crash figures. This file is also its own kill-wave worker (spawnManaged({ self }) on
// import.meta.filename): run by node with the worker flag it journals until killed.
//   1. One wave of 4 workers (spawn -> progress -> SIGKILL -> verify), median wall time, against
//      spawning 4 workers that journal once and exit on their own.
//   2. 100 consecutive waves of 4 workers: orphans left and parent file descriptors before/after.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertNoOrphans,
  findOrphans,
  journalLength,
  killWave,
  lastValue,
  type ManagedProcess,
  openJournal,
  runWorker,
  spawnManaged,
  waitForExit,
} from '@faultline/crash';
import { type BenchFigure, figure, median } from './figure.ts';

await runWorker('bench-journal', async ([path, exitAfter]) => {
  const journal = openJournal(path!);
  const limit = Number(exitAfter ?? Number.POSITIVE_INFINITY);
  for (let n = 0; n < limit; n++) {
    journal.append(n);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
});

const WORKERS = 4;
const fdCount = () => readdirSync('/proc/self/fd').length;

function spawnWave(dir: string, wave: number, exitAfter?: number) {
  const journals = Array.from({ length: WORKERS }, (_, i) => join(dir, `w${wave}-${i}.log`));
  const extra = exitAfter === undefined ? [] : [String(exitAfter)];
  const workers = journals.map((j, i) =>
    spawnManaged({ self: import.meta.filename, role: 'bench-journal' }, [j, ...extra], { name: `bench-${i}` }),
  );
  return { journals, workers };
}

/** The post-kill check a real test does: every journal parses and counts up without gaps. */
function verify(journals: readonly string[]): void {
  for (const j of journals) {
    const length = journalLength(j);
    const last = lastValue(j);
    if (length > 0 && last !== length - 1)
      throw new Error(`bench verify: ${j} has ${length} lines but ends at ${last}`);
  }
}

async function oneWave(dir: string, wave: number): Promise<number> {
  const start = performance.now();
  const { journals, workers } = spawnWave(dir, wave);
  await killWave({
    workers,
    progress: (i) => journalLength(journals[i]!),
    when: { afterProgress: 1, observeMs: 0 },
    wave,
    seed: 1,
  });
  verify(journals);
  return performance.now() - start;
}

async function normalExit(dir: string, wave: number): Promise<number> {
  const start = performance.now();
  const { journals, workers } = spawnWave(dir, wave, 1);
  await Promise.all(workers.map((w: ManagedProcess) => waitForExit(w)));
  verify(journals);
  return performance.now() - start;
}

async function settleFds(target: number): Promise<number> {
  // Pipes of a reaped child close a tick after its exit event: give them a bounded moment.
  const deadline = Date.now() + 2000;
  while (fdCount() > target && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return fdCount();
}

export default async function crashBench(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-crash-bench-'));
  try {
    // Warm-up: the first spawn loads execa's lazy parts and the OS caches the worker's modules.
    // Distinct wave numbers: a wave's workers restart their journal at 0, so sharing one would read as a gap.
    await normalExit(dir, 0);
    await oneWave(dir, 1);
    await assertNoOrphans();

    const baseline: number[] = [];
    const subject: number[] = [];
    for (let round = 1; round <= 10; round++) {
      baseline.push(await normalExit(dir, 1000 + round));
      subject.push(await oneWave(dir, 2000 + round));
      await assertNoOrphans();
    }

    const WAVES = 100;
    const fdsBefore = await settleFds(0);
    let orphans = 0;
    const started = performance.now();
    for (let wave = 1; wave <= WAVES; wave++) {
      await oneWave(dir, 3000 + wave);
      orphans += findOrphans().length;
      await assertNoOrphans();
    }
    const seconds = (performance.now() - started) / 1000;
    const fdsAfter = await settleFds(fdsBefore);
    const leaked = Math.max(0, fdsAfter - fdsBefore);
    return [
      figure(
        `one kill wave of ${WORKERS} workers (spawn, progress, SIGKILL, verify), median of 10`,
        'ms',
        { label: `${WORKERS} workers exit on their own`, value: median(baseline) },
        { label: 'full SIGKILL wave', value: median(subject) },
      ),
      figure(
        `${WAVES} consecutive kill waves of ${WORKERS} workers: parent fds before/after`,
        'fds',
        { label: 'before', value: fdsBefore },
        { label: 'after', value: fdsAfter },
        {
          budget: '0 orphans, 0 leaked fds',
          ok: orphans === 0 && leaked === 0,
          note: `${orphans} orphan processes, ${leaked} leaked fds, ${WAVES * WORKERS} workers killed in ${seconds.toFixed(1)} s`,
        },
      ),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
