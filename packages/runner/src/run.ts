import { randomInt } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LayerResults, LoadedMatrix } from '@faultline/matrix';
import { broken } from './breaks.ts';
import { type ExecuteOptions, executeLayer } from './execute.ts';
import { matrixDigest, runIdFor, supersede } from './identity.ts';
import { type InterruptSignal, interruptOf } from './interrupt.ts';
import type { LayerPlan } from './plan.ts';
import { planRun } from './plan.ts';
import type { ProgressSink } from './progress.ts';
import { attemptSeeds, mergeAttempts } from './repeat.ts';
import { writeResults } from './results-io.ts';
import { RunError, writeFailure } from './run-error.ts';
import { acquireRunLock } from './run-lock.ts';

export interface RunOptions {
  layers?: readonly string[];
  issue?: string;
  /** Only these test files (absolute paths), e.g. the files that hold one cell's tests. */
  files?: readonly string[];
  /** Scratch dir of the layers' processes (default `.faultline/run`); concurrent runs need their own. */
  runDir?: string;
  /** Extra environment for every layer's worker and tests (`faultline verify` sets FAULTLINE_BREAK here). */
  env?: Readonly<Record<string, string>>;
  seed?: number;
  shard?: { index: number; count: number };
  backend?: string;
  progress: ProgressSink;
  /** The run's id (shared by the shards of one CI run); default `FAULTLINE_RUN_ID`, else see runIdFor. */
  runId?: string;
  /** Default `.faultline/results` beside matrix.yaml. */
  resultsDir?: string;
  /**
   * Run each layer's selected tests this many times (default 1), attempt k with `attemptSeed(seed, k)`;
   * the layer's results hold every attempt of every test (see `mergeAttempts`).
   */
  repeat?: number;
  /**
   * Aborted to interrupt the run (the CLI's `interruptOnSignals`): the running layer's processes are
   * stopped, its results are written marked interrupted, and no further layer starts.
   */
  signal?: AbortSignal;
}

/** What an interrupt stopped: the layer that was running (if any) and how many of its processes. */
export interface RunInterrupted {
  signal: InterruptSignal | 'abort';
  layer?: string;
  /** Processes stopped besides the layer's worker (test forks, daemons). */
  stopped: number;
  /** Containers the layer's tests had started, removed through the engine. */
  containers: number;
  /** The layers that had finished: their results files are kept. */
  kept: string[];
}

export interface RunOutcome {
  seed: number;
  runId: string;
  results: LayerResults[];
  files: string[];
  interrupted?: RunInterrupted;
}

/** A fresh seed when none is given; printed and stored so a run can be replayed. */
export function newSeed(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/** One layer, `seeds.length` times (each attempt with a fresh run dir), merged when repeated. */
async function runAttempts(layer: LayerPlan, options: ExecuteOptions, seeds: readonly number[]): Promise<LayerResults> {
  const attempts: LayerResults[] = [];
  for (const [i, seed] of seeds.entries()) {
    // Progress names the attempt through the layer's title: "l1 Mocks (attempt 2/10, seed 123): running ...".
    const title = seeds.length > 1 ? `${layer.title} (attempt ${i + 1}/${seeds.length}, seed ${seed})` : layer.title;
    attempts.push(await executeLayer({ ...layer, title }, { ...options, seed }));
    if (options.signal?.aborted) break; // the attempts so far, the last marked interrupted
  }
  if (seeds.length === 1) return attempts[0] as LayerResults;
  const merged = mergeAttempts(attempts, seeds.slice(0, attempts.length));
  const interrupted = attempts.at(-1)?.run.interrupted;
  return interrupted ? { ...merged, run: { ...merged.run, interrupted } } : merged;
}

/** The matrix's digest now, or a note that it is gone (a matrix removed mid-run changed too). */
function digestNow(matrixFile: string): string {
  try {
    return matrixDigest(matrixFile);
  } catch {
    return 'removed';
  }
}

/** A RunError when the matrix file's bytes are not those the run started with. */
function checkMatrixUnchanged(matrixFile: string, digest: string, written: readonly string[]): void {
  if (broken('noMatrixRecheck')) return;
  const now = digestNow(matrixFile);
  if (now === digest) return;
  const kept = written.length
    ? `the results written (${written.join(', ')}) record the matrix they ran against (${digest.slice(0, 19)})`
    : 'no results were written';
  throw new RunError(
    'matrix-changed',
    matrixFile,
    `${matrixFile} changed while the run was in flight (${digest.slice(0, 19)} at the start, ${now.slice(0, 19)} now): ${kept}; run again to test the matrix as it is now`,
  );
}

/**
 * Creates the results dir and proves a file can be written there before any test runs: a read-only or
 * full results dir fails in a second, naming the directory, not after the whole run.
 */
function checkWritable(resultsDir: string): void {
  const probe = join(resultsDir, `.write-check.${process.pid}`);
  try {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(probe, 'ok\n');
  } catch (error) {
    throw broken('rawWriteErrors') ? error : writeFailure(resultsDir, error);
  } finally {
    rmSync(probe, { force: true });
  }
}

/**
 * Runs the planned layers one after another and writes each layer's results atomically. Before a layer
 * runs, the results it supersedes are removed (stale shard files included), so a run killed outright
 * leaves the layer without results rather than with old ones; an interrupted run (`signal`) writes the
 * layer's results marked interrupted. The run holds `.faultline/run.lock` (beside the results dir)
 * throughout; a results dir that cannot be written fails before any test runs (`RunError`), and so does
 * a matrix edited while the run was in flight, once the layer's results are written.
 */
export async function runLayers(loaded: LoadedMatrix, options: RunOptions): Promise<RunOutcome> {
  const plan = planRun(loaded, options.layers ? { layers: options.layers } : {});
  const seed = options.seed ?? newSeed();
  const resultsDir = options.resultsDir ?? join(plan.root, '.faultline', 'results');
  const runId = runIdFor(options.runId ?? process.env.FAULTLINE_RUN_ID, seed, options.shard !== undefined);
  const digest = matrixDigest(plan.matrixFile);
  checkWritable(resultsDir);
  // Beside the results dir: `.faultline/run.lock` by default.
  const lock = acquireRunLock(join(dirname(resultsDir), 'run.lock'));
  try {
    return await runLocked(plan, options, { seed, resultsDir, runId, digest });
  } finally {
    lock.release();
  }
}

async function runLocked(
  plan: ReturnType<typeof planRun>,
  options: RunOptions,
  run: { seed: number; resultsDir: string; runId: string; digest: string },
): Promise<RunOutcome> {
  const { seed, resultsDir, runId, digest } = run;
  const results: LayerResults[] = [];
  const files: string[] = [];
  const seeds = attemptSeeds(seed, options.repeat ?? 1);
  for (const layer of plan.layers) {
    if (options.signal?.aborted) break;
    try {
      supersede(resultsDir, layer.layer, runId, options.shard);
    } catch (error) {
      throw broken('rawWriteErrors') ? error : writeFailure(resultsDir, error);
    }
    const r = await runAttempts(
      layer,
      {
        root: plan.root,
        matrixFile: plan.matrixFile,
        seed,
        runId,
        matrixDigest: digest,
        progress: options.progress,
        runDir: options.runDir ?? join(plan.root, '.faultline', 'run'),
        ...(options.issue ? { issue: options.issue } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.files ? { files: options.files } : {}),
        ...(options.shard ? { shard: options.shard } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      seeds,
    );
    results.push(r);
    files.push(writeResults(resultsDir, r));
    if (!r.run.interrupted) checkMatrixUnchanged(plan.matrixFile, digest, files);
  }
  if (!options.signal?.aborted) return { seed, runId, results, files };
  const last = results.at(-1);
  const stoppedLayer = last?.run.interrupted ? last : undefined;
  const interrupted: RunInterrupted = {
    signal: interruptOf(options.signal)?.signal ?? 'abort',
    ...(stoppedLayer ? { layer: stoppedLayer.layer } : {}),
    stopped: stoppedLayer?.run.interrupted?.stopped ?? 0,
    containers: stoppedLayer?.run.interrupted?.containers ?? 0,
    kept: results.filter((r) => !r.run.interrupted).map((r) => r.layer),
  };
  return { seed, runId, results, files, interrupted };
}
