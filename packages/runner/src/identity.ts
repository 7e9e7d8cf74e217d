import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { LayerResults, Problem } from '@faultline/matrix';
import { isLayerResultsName, readResultsFile } from './results-io.ts';

/** A results file and what it holds. */
export interface ResultsEntry {
  file: string;
  results: LayerResults;
}

/** `sha256:<hex>` of the matrix file's bytes: the results of a run name the matrix they were run against. */
export function matrixDigest(matrixFile: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(matrixFile)).digest('hex')}`;
}

/**
 * The run id: given (`--run-id`, `FAULTLINE_RUN_ID`; CI passes its run's id so every job's shard shares it),
 * else `seed-<seed>` for a shard (the shards of one run share their seed), else a fresh one.
 */
export function runIdFor(given: string | undefined, seed: number, sharded: boolean): string {
  if (given) return given;
  return sharded ? `seed-${seed}` : `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

const short = (digest: string | undefined) => (digest ? digest.slice(0, 19) : 'unknown (an older results file)');
const runOf = (r: LayerResults) => r.run.runId ?? 'unknown (an older results file)';

/** Results of a different matrix: one problem per file. */
function foreignMatrix(entries: readonly ResultsEntry[], digest: string, matrixFile: string): Problem[] {
  return entries
    .filter((e) => e.results.run.matrixDigest !== digest)
    .map((e) => ({
      file: e.file,
      line: 1,
      col: 1,
      message: `results of another matrix (${short(e.results.run.matrixDigest)}; ${matrixFile} is ${short(digest)}): re-run layer ${e.results.layer} (faultline run --layer ${e.results.layer}) or remove the file`,
    }));
}

/** The files of one layer that belong to different runs: one problem per file, naming the others. */
function mixedRuns(entries: readonly ResultsEntry[]): Problem[] {
  const problems: Problem[] = [];
  const layers = [...new Set(entries.map((e) => e.results.layer))];
  for (const layer of layers) {
    const files = entries.filter((e) => e.results.layer === layer);
    const runs = new Set(files.map((e) => runOf(e.results)));
    if (runs.size < 2) continue;
    for (const e of files) {
      const others = files
        .filter((o) => runOf(o.results) !== runOf(e.results))
        .map((o) => relative(process.cwd(), o.file));
      problems.push({
        file: e.file,
        line: 1,
        col: 1,
        message: `layer ${layer} mixes runs: this file is run ${runOf(e.results)}, ${others.join(', ')} another: remove the stale files or re-run the layer (faultline run --layer ${layer})`,
      });
    }
  }
  return problems;
}

/** Why a set of results files cannot be gated together (empty when it can). */
export function resultsSetProblems(entries: readonly ResultsEntry[], digest: string, matrixFile: string): Problem[] {
  const foreign = foreignMatrix(entries, digest, matrixFile);
  const stale = new Set(foreign.map((p) => p.file));
  return [...foreign, ...mixedRuns(entries.filter((e) => !stale.has(e.file)))];
}

/** Every results file in a directory, with its path, in name order. */
export function readResultsEntries(dir: string): ResultsEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(isLayerResultsName)
    .sort()
    .map((f) => join(dir, f))
    .map((file) => ({ file, results: readResultsFile(file) }));
}

const SHARD_FILE = /^(.+)\.(\d+)of(\d+)\.json$/;

function runIdIn(file: string): string | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { run?: { runId?: unknown } };
    return typeof data.run?.runId === 'string' ? data.run.runId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the results of `layer` that a new run supersedes: for an unsharded run every file of the layer;
 * for shard i/n the unsharded file, shards of another count and shards of another run. Sibling shards of
 * the same run stay. Returns the files removed.
 */
export function supersede(
  dir: string,
  layer: string,
  runId: string,
  shard: { index: number; count: number } | undefined,
): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = SHARD_FILE.exec(name);
    const ofLayer = name === `${layer}.json` || m?.[1] === layer;
    if (!ofLayer) continue;
    const file = join(dir, name);
    const keep = shard && m && Number(m[3]) === shard.count && runIdIn(file) === runId;
    if (keep) continue;
    rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}
