// Kill waves: let a set of workers run until they have provably done work, then signal them all
// at once (at a seeded random moment or after observed progress), reap them, and record evidence.
// The vacuity guard refuses a wave that would prove nothing: a worker that already died, or no
// worker whose progress moved since the wave started (a journal left by an earlier wave already
// reads as progress, so the wave takes a baseline when it starts and counts from there).
import { createRng, deriveSeed, recordFault, runSeed } from '@faultline/evidence';
import type { PowerLossReport } from '@faultline/faults';
import { CrashError } from './errors.ts';
import type { PowerLoss } from './power-loss.ts';
import type { ExitInfo, ManagedProcess } from './spawn.ts';
import type { Violation } from './verify.ts';

export type KillSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGHUP' | 'SIGABRT';

export type KillTiming =
  /** Once any worker's progress grew by `afterProgress` (default 1) since the wave started, hold `observeMs` (default 200) so the others catch up, then kill. */
  | { afterProgress?: number; observeMs?: number }
  /** Once any worker made progress, wait a seeded random delay in [min, max] ms, then kill. */
  | { randomMs: readonly [number, number] };

/**
 * Progress of worker `index` (e.g. its journal line count). Only its growth counts: the wave reads
 * a baseline when it starts, so a journal carried over from an earlier wave is not progress.
 */
export type ProgressFn = (index: number, worker: ManagedProcess, wave: number) => number;

export interface KillWaveOptions {
  workers: readonly ManagedProcess[];
  progress: ProgressFn;
  /** How progress reads in evidence: "pid 42 got SIGKILL after <label> 118". Default "journal line". */
  progressLabel?: string;
  when?: KillTiming;
  /** Default SIGKILL. */
  signal?: KillSignal;
  /** Signal the whole process group (default) or only the worker process. */
  target?: 'group' | 'process';
  /** Default: FAULTLINE_SEED (see @faultline/evidence runSeed). The wave's delay is derived from (seed, wave). */
  seed?: number;
  /** Wave number for messages, evidence and seed derivation. Default 1. */
  wave?: number;
  /** Bound on waiting for the first progress. Default 20 000 ms (CI runners can be slow to start Node). */
  progressTimeoutMs?: number;
  /** Bound on waiting for every worker to exit after the signal. Default 10 000 ms. */
  exitTimeoutMs?: number;
  /** Progress poll period. Default 25 ms. */
  pollMs?: number;
  /**
   * Ends the wave with a power loss: once every worker is reaped, the tree this tracker watches
   * is rewound to its durable state (workers must be spawned with it), before any verify.
   */
  powerLoss?: PowerLoss;
}

export interface KilledWorker {
  name: string;
  pid: number;
  /** Progress read when the wave started (what earlier waves left); growth is counted from here. */
  baseline: number;
  /** Progress read right before the signal was sent. */
  progressAtSignal: number;
  /** Progress read after the worker was reaped (what it really got done). */
  progress: number;
  exit: ExitInfo;
}

export interface KillWaveResult {
  wave: number;
  signal: KillSignal;
  seed: number;
  /** Time from first observed progress to the signal. */
  delayMs: number;
  /** Time from the call to the last worker reaped. */
  elapsedMs: number;
  workers: KilledWorker[];
  /** What the power loss discarded, when the wave had one. */
  powerLoss?: PowerLossReport;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The seeded delay killWave uses for `wave` with `{ randomMs: [min, max] }`; pure, so replay is checkable. */
export function waveDelayMs(seed: number, wave: number, range: readonly [number, number]): number {
  return createRng(deriveSeed(seed, 'kill-wave', wave)).int(range[0], range[1]);
}

function assertAllRunning(workers: readonly ManagedProcess[], label: string, signal: string): void {
  for (const w of workers) {
    // `alive`, not `running`: an exited worker Node has not reaped yet would take the signal as a zombie.
    if (!w.alive) {
      const how = w.running ? 'already exited (a zombie not yet reaped)' : w.describeExit();
      throw new CrashError(
        'vacuous',
        `${label}: ${w.describe()} ${how} before the ${signal}; workers must loop until killed, ` +
          `otherwise the wave proves nothing (last output: ${w.tail()})`,
      );
    }
  }
}

async function reap(workers: readonly ManagedProcess[], timeoutMs: number, label: string): Promise<void> {
  const all = Promise.all(workers.map((w) => w.exited));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([all, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const stuck = workers.filter((w) => w.running);
    for (const w of stuck) w.kill('SIGKILL', 'group');
    await Promise.all(stuck.map((w) => w.exited));
    throw new CrashError(
      'violation',
      `${label}: ${stuck.map((w) => w.describe()).join(', ')} did not exit within ${timeoutMs} ms of the signal; ` +
        'killed with SIGKILL (does the worker trap or ignore the signal?)',
    );
  }
}

/** The phase-1 timeout: says where each worker's progress stood and where it started. */
function noProgressError(
  label: string,
  workers: readonly ManagedProcess[],
  now: readonly number[],
  baseline: readonly number[],
  progressLabel: string,
  threshold: number,
  timeoutMs: number,
): CrashError {
  const tail = `a kill now would prove nothing (last output of ${workers[0]!.describe()}: ${workers[0]!.tail()})`;
  if (baseline.every((b) => b === 0)) {
    const seen = workers.map((w, i) => `${w.name}=${now[i]}`).join(', ');
    return new CrashError(
      'vacuous',
      `${label}: no worker reached ${progressLabel} ${threshold} within ${timeoutMs} ms (${seen}); ${tail}`,
    );
  }
  const seen = workers.map((w, i) => `${w.name}=${now[i]} (from ${baseline[i]})`).join(', ');
  return new CrashError(
    'vacuous',
    `${label}: no worker moved its ${progressLabel} past where it was when the wave started (${seen}) ` +
      `by ${threshold} within ${timeoutMs} ms; progress left by an earlier wave does not count, ${tail}`,
  );
}

/**
 * Runs one kill wave over already-spawned workers. Progress is counted from what `progress` reads
 * when this is called (call it right after spawning, as runWaves does). On any guard failure every worker is
 * SIGKILLed and reaped before the error is thrown, so nothing leaks.
 */
export async function killWave(options: KillWaveOptions): Promise<KillWaveResult> {
  const {
    workers,
    progress,
    progressLabel = 'journal line',
    when = {},
    signal = 'SIGKILL',
    target = 'group',
    seed = runSeed(),
    wave = 1,
    progressTimeoutMs = 20_000,
    exitTimeoutMs = 10_000,
    pollMs = 25,
  } = options;
  const label = `kill wave ${wave}`;
  if (workers.length === 0) throw new CrashError('vacuous', `${label}: no workers given`);
  const started = performance.now();
  const read = () => workers.map((w, i) => progress(i, w, wave));
  const baseline = read();
  const moved = (now: readonly number[], by: number) => now.some((p, i) => p - baseline[i]! >= by);
  try {
    // Phase 1: wait (bounded) until some worker proves it is doing work in this wave.
    const threshold = 'randomMs' in when ? 1 : (when.afterProgress ?? 1);
    const deadline = Date.now() + progressTimeoutMs;
    for (;;) {
      assertAllRunning(workers, label, signal);
      if (moved(read(), threshold)) break;
      if (Date.now() >= deadline)
        throw noProgressError(label, workers, read(), baseline, progressLabel, threshold, progressTimeoutMs);
      await sleep(pollMs);
    }
    // Phase 2: the observation window or the seeded random delay, still watching for early exits.
    const delayMs = 'randomMs' in when ? waveDelayMs(seed, wave, when.randomMs) : (when.observeMs ?? 200);
    const fireAt = performance.now() + delayMs;
    for (let left = delayMs; left > 0; left = fireAt - performance.now()) {
      assertAllRunning(workers, label, signal);
      await sleep(Math.min(pollMs, left));
    }
    // Phase 3: guard right before the signal, then signal everyone in one synchronous pass.
    assertAllRunning(workers, label, signal);
    const before = read();
    if (!moved(before, 1)) {
      throw new CrashError(
        'vacuous',
        `${label}: no worker has progressed since the wave started, right before the ${signal}`,
      );
    }
    for (const w of workers) w.kill(signal, target);
    await reap(workers, exitTimeoutMs, label);
    const after = read();
    const killed = workers.map((w, i): KilledWorker => {
      const exit = w.exit!;
      if (signal === 'SIGKILL' && exit.signal !== 'SIGKILL') {
        throw new CrashError(
          'vacuous',
          `${label}: ${w.describe()} ${w.describeExit()} instead of dying by SIGKILL; it ended on its own as the wave fired`,
        );
      }
      return {
        name: w.name,
        pid: w.pid,
        baseline: baseline[i]!,
        progressAtSignal: before[i]!,
        progress: after[i]!,
        exit,
      };
    });
    for (const k of killed) {
      recordFault({
        kind: signal === 'SIGKILL' ? 'kill' : 'signal',
        name: k.name,
        detail: `pid ${k.pid} got ${signal} after ${progressLabel} ${k.progress} (wave ${wave})`,
        source: '@faultline/crash',
        attributes: {
          pid: k.pid,
          signal,
          wave,
          progress: k.progress,
          baseline: k.baseline,
          progressAtSignal: k.progressAtSignal,
          delayMs,
          seed,
          exit: k.exit.signal ?? `code ${k.exit.code}`,
        },
      });
    }
    const lost = options.powerLoss?.cut();
    return {
      wave,
      signal,
      seed,
      delayMs,
      elapsedMs: performance.now() - started,
      workers: killed,
      ...(lost === undefined ? {} : { powerLoss: lost }),
    };
  } finally {
    const left = workers.filter((w) => w.running);
    for (const w of left) w.kill('SIGKILL', 'group');
    await Promise.all(left.map((w) => w.exited));
  }
}

export interface RunWavesOptions extends Omit<KillWaveOptions, 'workers' | 'wave'> {
  waves: number;
  /** Starts the workers of a wave (numbered from 1). */
  spawn: (wave: number) => ManagedProcess[] | Promise<ManagedProcess[]>;
  /** Checks state after a wave; returned violations are collected (throwing aborts the run). */
  verify?: (wave: number, result: KillWaveResult) => Violation[] | undefined | Promise<Violation[] | undefined>;
  /** Stop after the first wave with violations. Default true. */
  stopOnViolation?: boolean;
}

export interface WavesReport {
  waves: KillWaveResult[];
  violations: Array<Violation & { wave: number }>;
}

/** Several waves in a row: spawn, wait for progress, kill, verify; state carries across waves. */
export async function runWaves(options: RunWavesOptions): Promise<WavesReport> {
  const { waves, spawn, verify, stopOnViolation = true, ...wave } = options;
  if (!Number.isInteger(waves) || waves < 1)
    throw new CrashError('usage', `runWaves: waves must be a positive integer, got ${waves}`);
  const report: WavesReport = { waves: [], violations: [] };
  for (let n = 1; n <= waves; n++) {
    const workers = await spawn(n);
    const result = await killWave({ ...wave, workers, wave: n });
    report.waves.push(result);
    const found = (await verify?.(n, result)) ?? [];
    report.violations.push(...found.map((v) => ({ ...v, wave: n })));
    if (found.length > 0 && stopOnViolation) break;
  }
  return report;
}

/** Throws listing every violation of a waves report (for tests that expect a clean run). */
export function assertNoViolations(report: WavesReport): void {
  if (report.violations.length === 0) return;
  const lines = report.violations.map((v) => `  wave ${v.wave} ${v.kind}: ${v.detail}`);
  throw new CrashError(
    'violation',
    `${report.violations.length} durability violation(s) after ${report.waves.length} wave(s):\n${lines.join('\n')}`,
  );
}
