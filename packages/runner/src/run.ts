import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { LayerResults, LoadedMatrix } from '@faultline/matrix';
import { executeLayer } from './execute.ts';
import { planRun } from './plan.ts';
import type { ProgressSink } from './progress.ts';
import { writeResults } from './results-io.ts';

export interface RunOptions {
  layers?: readonly string[];
  issue?: string;
  seed?: number;
  shard?: { index: number; count: number };
  backend?: string;
  progress: ProgressSink;
  /** Default `.faultline/results` beside matrix.yaml. */
  resultsDir?: string;
}

export interface RunOutcome {
  seed: number;
  results: LayerResults[];
  files: string[];
}

/** A fresh seed when none is given; printed and stored so a run can be replayed. */
export function newSeed(): number {
  return randomInt(1, 2 ** 31 - 1);
}

/** Runs the planned layers one after another and writes each layer's results atomically. */
export async function runLayers(loaded: LoadedMatrix, options: RunOptions): Promise<RunOutcome> {
  const plan = planRun(loaded, options.layers ? { layers: options.layers } : {});
  const seed = options.seed ?? newSeed();
  const resultsDir = options.resultsDir ?? join(plan.root, '.faultline', 'results');
  const results: LayerResults[] = [];
  const files: string[] = [];
  for (const layer of plan.layers) {
    const r = await executeLayer(layer, {
      root: plan.root,
      matrixFile: plan.matrixFile,
      seed,
      progress: options.progress,
      runDir: join(plan.root, '.faultline', 'run'),
      ...(options.issue ? { issue: options.issue } : {}),
      ...(options.shard ? { shard: options.shard } : {}),
      ...(options.backend ? { backend: options.backend } : {}),
    });
    results.push(r);
    files.push(writeResults(resultsDir, r));
  }
  return { seed, results, files };
}
