// Power-loss tracking overhead. This file is also its own kill-wave worker (spawnManaged({ self }) on
// import.meta.filename): run by node with the worker flag it writes a checkpoint atomically in a
// loop (temp, fsync, rename, directory fsync) and journals each write until killed.
//   1. l1: 200 chunks of 64 KiB through media-cache's ChunkStore on createFaultyFs() (no rules)
//      vs on createPowerLossFs() (same interception, plus tracking), then one powerLoss().
//   2. l2: one kill wave of 4 such workers (spawn -> 20 writes -> 200 ms -> SIGKILL -> verify)
//      without vs with the power-loss preload and the rewind after the wave; and how many
//      writes a worker gets done in the wave with the preload journaling them.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  journalLength,
  killWave,
  maxValue,
  openJournal,
  type PowerLoss,
  powerLoss,
  runWorker,
  spawnManaged,
} from '@faultline/crash';
import { createFaultyFs, createPowerLossFs, type FsPromises } from '@faultline/faults';
import { ChunkStore, type FsLike } from 'media-cache';
import { type BenchFigure, figure, median } from './figure.ts';

await runWorker('bench-atomic', ([file, journalPath]) => {
  const journal = openJournal(journalPath!);
  const body = 'x'.repeat(4096);
  for (let seq = 0; ; seq++) {
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify({ seq, body }));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file!);
    const dir = openSync(dirname(file!), 'r');
    fsyncSync(dir);
    closeSync(dir);
    journal.append(seq);
  }
});

const CHUNKS = 200;
const CHUNK = 64 * 1024;
const RUNS = 5;
const WORKERS = 4;

async function writeChunks(fs: FsPromises, dir: string): Promise<number> {
  const store = new ChunkStore({ dir, fs: fs as FsLike });
  await store.init();
  const data = Buffer.alloc(CHUNK);
  const start = performance.now();
  for (let i = 0; i < CHUNKS; i++) {
    data.writeUInt32LE(i, 0);
    await store.write(data);
  }
  return performance.now() - start;
}

async function l1(base: string, where: string): Promise<BenchFigure[]> {
  const plain: number[] = [];
  const tracked: number[] = [];
  const cut: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const a = join(base, `l1-plain-${run}`);
    mkdirSync(a);
    plain.push(await writeChunks(createFaultyFs().fs, a));
    const b = join(base, `l1-tracked-${run}`);
    mkdirSync(b);
    const power = createPowerLossFs({ root: b });
    tracked.push(await writeChunks(power.fs, b));
    const t = performance.now();
    power.powerLoss();
    cut.push(performance.now() - t);
  }
  const p = median(plain);
  const t = median(tracked);
  return [
    figure(
      `l1: ${CHUNKS} atomic 64 KiB chunk writes (ChunkStore) on ${where}, median of ${RUNS}`,
      'ms',
      { label: 'createFaultyFs()', value: p },
      { label: 'createPowerLossFs()', value: t },
      { note: `powerLoss() rewind of that tree afterwards: median ${median(cut).toFixed(1)} ms` },
    ),
  ];
}

async function wave(
  base: string,
  n: number,
  tracker?: (root: string) => PowerLoss,
): Promise<{ ms: number; writes: number }> {
  const dir = join(base, `wave-${n}`);
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const power = tracker?.(data);
  const journals = Array.from({ length: WORKERS }, (_, i) => join(dir, `journal-${i}.log`));
  const start = performance.now();
  const workers = journals.map((j, i) =>
    spawnManaged({ self: import.meta.filename, role: 'bench-atomic' }, [join(data, `checkpoint-${i}.json`), j], {
      name: `bench-${i}`,
      ...(power === undefined ? {} : { powerLoss: power }),
    }),
  );
  await killWave({
    workers,
    progress: (i) => journalLength(journals[i]!),
    when: { afterProgress: 20, observeMs: 200 },
    wave: n,
    seed: 1,
    ...(power === undefined ? {} : { powerLoss: power }),
  });
  const writes = journals.map((j) => maxValue(j) ?? 0).reduce((a, b) => a + b, 0) / WORKERS;
  const ms = performance.now() - start;
  power?.dispose();
  return { ms, writes };
}

async function l2(base: string): Promise<BenchFigure[]> {
  const plain: Array<{ ms: number; writes: number }> = [];
  const tracked: Array<{ ms: number; writes: number }> = [];
  for (let run = 0; run < RUNS; run++) {
    plain.push(await wave(base, 2 * run));
    tracked.push(await wave(base, 2 * run + 1, (root) => powerLoss({ root, journalDir: join(base, `pl-${run}`) })));
  }
  return [
    figure(
      `l2: one kill wave of ${WORKERS} atomic writers (spawn, 20 writes, 200 ms, SIGKILL, rewind), median of ${RUNS}`,
      'ms',
      { label: 'kill wave', value: median(plain.map((w) => w.ms)) },
      { label: 'kill wave + power loss', value: median(tracked.map((w) => w.ms)) },
    ),
    figure(
      `l2: writes per worker in that wave (temp, fsync, rename, dir fsync), median of ${RUNS}`,
      'writes',
      { label: 'no preload', value: median(plain.map((w) => w.writes)) },
      { label: 'journaling preload', value: median(tracked.map((w) => w.writes)) },
      { note: 'ratio < 1: the preload copies each fsynced file and journals every op' },
    ),
  ];
}

export default async function powerLossBench(): Promise<BenchFigure[]> {
  const base = mkdtempSync(join(tmpdir(), 'faultline-bench-power-'));
  // On tmpfs fsync costs nothing, so the tracking's own cost shows undiluted (the worst case);
  // on the disk the fsyncs dominate and vary with the other jobs' I/O.
  const shm = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', 'faultline-bench-power-')) : undefined;
  try {
    const memory = shm === undefined ? [] : await l1(shm, 'tmpfs (/dev/shm)');
    return [...memory, ...(await l1(base, `the temp dir's disk`)), ...(await l2(base))];
  } finally {
    rmSync(base, { recursive: true, force: true });
    if (shm !== undefined) rmSync(shm, { recursive: true, force: true });
  }
}
