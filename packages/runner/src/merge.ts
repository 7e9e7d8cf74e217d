import type { FileError, LayerResults, ProjectRun, TestRecord } from '@faultline/matrix';
import { RESULTS_SCHEMA } from '@faultline/matrix';
import { uniqueTestIds } from './test-ids.ts';

export interface MergeProblem {
  layer: string;
  message: string;
  /** Merging cannot go on, even with --allow-partial (files of different runs or matrices). */
  refuse?: boolean;
}

export interface MergeOutcome {
  merged: LayerResults[];
  /** Shards that are missing or disagree (different counts); merging still happened. */
  problems: MergeProblem[];
}

const worse: Record<ProjectRun['outcome'], number> = {
  completed: 0,
  'not-run': 1,
  interrupted: 2,
  timeout: 3,
  crashed: 4,
};

function mergeProjects(projects: ProjectRun[]): ProjectRun[] {
  const byName = new Map<string, ProjectRun>();
  for (const p of projects) {
    const prev = byName.get(p.name);
    if (!prev) {
      byName.set(p.name, { ...p });
      continue;
    }
    prev.tests += p.tests;
    prev.durationMs += p.durationMs;
    if (worse[p.outcome] > worse[prev.outcome]) {
      prev.outcome = p.outcome;
      if (p.reason) prev.reason = p.reason;
    }
  }
  return [...byName.values()];
}

/** The shards one file holds: its own, or those of an earlier partial merge; undefined for a whole layer. */
function shardsOf(r: LayerResults): { count: number; ran: number[] } | undefined {
  return r.shard ? { count: r.shard.count, ran: [r.shard.index] } : r.run.shards;
}

/** Shard counts that disagree, and shards that no file holds (none when a file holds the whole layer). */
function shardProblems(layer: string, runs: readonly LayerResults[]): MergeProblem[] {
  const held = runs.map(shardsOf);
  if (held.some((h) => h === undefined) && held.some((h) => h !== undefined)) {
    return [
      { layer, message: `files of ${layer} mix a whole-layer run with shards: merge one run's files`, refuse: true },
    ];
  }
  const problems: MergeProblem[] = [];
  const counts = new Set(held.flatMap((h) => (h ? [h.count] : [])));
  if (counts.size > 1) {
    problems.push({ layer, message: `shards of ${layer} disagree on the shard count (${[...counts].join(', ')})` });
  }
  for (const count of counts) {
    const have = new Set(held.flatMap((h) => (h?.count === count ? h.ran : [])));
    for (let i = 1; i <= count; i++) {
      if (!have.has(i)) problems.push({ layer, message: `shard ${i}/${count} of ${layer} is missing` });
    }
  }
  return problems;
}

/** The shards a merge holds when some did not run (`merge --allow-partial`); undefined when complete. */
function heldShards(runs: readonly LayerResults[]): { count: number; ran: number[] } | undefined {
  if (runs.some((r) => !r.shard && !r.run.shards)) return undefined;
  const count = Math.max(...runs.map((r) => r.shard?.count ?? r.run.shards?.count ?? 1));
  const ran = new Set(runs.flatMap((r) => (r.shard ? [r.shard.index] : (r.run.shards?.ran ?? []))));
  if (ran.size >= count) return undefined;
  return { count, ran: [...ran].sort((a, b) => a - b) };
}

function withoutShards(run: LayerResults['run']): LayerResults['run'] {
  const copy = { ...run };
  delete copy.shards;
  return copy;
}

/** Files of one layer from different runs or matrices cannot be one result. */
function identityProblems(layer: string, runs: readonly LayerResults[]): MergeProblem[] {
  const problems: MergeProblem[] = [];
  const ids = [...new Set(runs.map((r) => r.run.runId ?? 'unknown'))];
  if (ids.length > 1)
    problems.push({
      layer,
      message: `files of ${layer} mix runs (${ids.join(', ')}): merge one run's files`,
      refuse: true,
    });
  const digests = [...new Set(runs.map((r) => r.run.matrixDigest ?? 'unknown'))];
  if (digests.length > 1) {
    problems.push({
      layer,
      message: `files of ${layer} were run against different matrices: merge one run's files`,
      refuse: true,
    });
  }
  return problems;
}

/** One record per test: within one file every test counts (ids made unique); across files a re-run keeps its failure. */
function mergeTests(runs: readonly LayerResults[]): TestRecord[] {
  const tests = new Map<string, TestRecord>();
  for (const t of runs.flatMap((r) => uniqueTestIds(r.tests))) {
    const prev = tests.get(t.id);
    if (!prev || t.state === 'failed' || prev.state !== 'failed') tests.set(t.id, t);
  }
  return [...tests.values()];
}

/** Every shard's unattributed evidence (none: the key is left out). */
function unattributedOf(runs: readonly LayerResults[]): Pick<LayerResults, 'unattributed'> {
  const all = runs.flatMap((r) => r.unattributed ?? []);
  return all.length ? { unattributed: all } : {};
}

/**
 * Folds the results of many shards and jobs into one result per layer. A test that appears
 * in several inputs (a re-run job) keeps its last failing record if any, else its last one,
 * so a re-run cannot hide a failure.
 */
export function mergeResults(inputs: readonly LayerResults[]): MergeOutcome {
  const byLayer = new Map<string, LayerResults[]>();
  for (const r of inputs) {
    const list = byLayer.get(r.layer);
    if (list) list.push(r);
    else byLayer.set(r.layer, [r]);
  }
  const merged: LayerResults[] = [];
  const problems: MergeProblem[] = [];
  for (const [layer, runs] of byLayer) {
    problems.push(...shardProblems(layer, runs));
    const seeds = [...new Set(runs.map((r) => r.run.seed))];
    if (seeds.length > 1) {
      problems.push({
        layer,
        message: `shards of ${layer} ran with different seeds (${seeds.join(', ')}); the first is kept`,
      });
    }
    problems.push(...identityProblems(layer, runs));
    const shards = heldShards(runs);
    const errors: FileError[] = runs.flatMap((r) => r.errors);
    const starts = runs.map((r) => Date.parse(r.run.startedAt)).filter(Number.isFinite);
    const ends = runs.map((r) => Date.parse(r.run.endedAt)).filter(Number.isFinite);
    const first = runs[0]!;
    const backends = [...new Set(runs.map((r) => r.run.backend).filter((b): b is string => Boolean(b)))];
    const notRun = runs.find((r) => r.run.notRun)?.run.notRun;
    const startedAt = starts.length ? new Date(Math.min(...starts)).toISOString() : first.run.startedAt;
    const endedAt = ends.length ? new Date(Math.max(...ends)).toISOString() : first.run.endedAt;
    merged.push({
      schema: RESULTS_SCHEMA,
      layer,
      run: {
        ...withoutShards(first.run),
        startedAt,
        endedAt,
        durationMs: Date.parse(endedAt) - Date.parse(startedAt) || first.run.durationMs,
        capabilities: Object.assign({}, ...runs.map((r) => r.run.capabilities)),
        ...(backends.length ? { backend: backends.join('+') } : {}),
        ...(notRun ? { notRun } : {}),
        host: [...new Set(runs.map((r) => r.run.host).filter(Boolean))].join(','),
        ...(shards ? { shards } : {}),
      },
      projects: mergeProjects(runs.flatMap((r) => r.projects)),
      tests: uniqueTestIds(mergeTests(runs)),
      errors,
      ...unattributedOf(runs),
    });
  }
  return { merged, problems };
}
