import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { LayerResults, LoadedMatrix } from '@faultline/matrix';
import { type ExecuteOptions, executeLayer } from './execute.ts';
import { matrixDigest, runIdFor, supersede } from './identity.ts';
import type { LayerPlan } from './plan.ts';
import { planRun } from './plan.ts';
import type { ProgressSink } from './progress.ts';
import { attemptSeeds, mergeAttempts } from './repeat.ts';
import { writeResults } from './results-io.ts';

export interface RunOptions {
  layers?: readonly string[];
  issue?: string;
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
}

export interface RunOutcome {
  seed: number;
  runId: string;
  results: LayerResults[];
  files: string[];
}

/** A fresh seed when none is given; printed and stored so a run can be replayed. */
export function newSeed(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/**
 * Runs the planned layers one after another and writes each layer's results atomically. Before a layer
 * runs, the results it supersedes are removed (stale shard files included), so an interrupted run leaves
 * the layer without results rather than with old ones.
 */
/** One layer, `seeds.length` times (each attempt with a fresh run dir), merged when repeated. */
async function runAttempts(layer: LayerPlan, options: ExecuteOptions, seeds: readonly number[]): Promise<LayerResults> {
  const attempts: LayerResults[] = [];
  for (const [i, seed] of seeds.entries()) {
    // Progress names the attempt through the layer's title: "l1 Mocks (attempt 2/10, seed 123): running ...".
    const title = seeds.length > 1 ? `${layer.title} (attempt ${i + 1}/${seeds.length}, seed ${seed})` : layer.title;
    attempts.push(await executeLayer({ ...layer, title }, { ...options, seed }));
  }
  return seeds.length > 1 ? mergeAttempts(attempts, seeds) : (attempts[0] as LayerResults);
}

export async function runLayers(loaded: LoadedMatrix, options: RunOptions): Promise<RunOutcome> {
  const plan = planRun(loaded, options.layers ? { layers: options.layers } : {});
  const seed = options.seed ?? newSeed();
  const resultsDir = options.resultsDir ?? join(plan.root, '.faultline', 'results');
  const runId = runIdFor(options.runId ?? process.env.FAULTLINE_RUN_ID, seed, options.shard !== undefined);
  const digest = matrixDigest(plan.matrixFile);
  const results: LayerResults[] = [];
  const files: string[] = [];
  const seeds = attemptSeeds(seed, options.repeat ?? 1);
  for (const layer of plan.layers) {
    supersede(resultsDir, layer.layer, runId, options.shard);
    const r = await runAttempts(
      layer,
      {
        root: plan.root,
        matrixFile: plan.matrixFile,
        seed,
        runId,
        matrixDigest: digest,
        progress: options.progress,
        runDir: join(plan.root, '.faultline', 'run'),
        ...(options.issue ? { issue: options.issue } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.shard ? { shard: options.shard } : {}),
        ...(options.backend ? { backend: options.backend } : {}),
      },
      seeds,
    );
    results.push(r);
    files.push(writeResults(resultsDir, r));
  }
  return { seed, runId, results, files };
}
