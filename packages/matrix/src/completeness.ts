import type { LayerResults } from './results.ts';

/** Why a layer's results do not hold the whole layer: shards that did not run, an `--issue` filter. */
export interface LayerGap {
  layer: string;
  /** e.g. `shard 2/2 did not run`, one per missing shard. */
  missingShards: string[];
  /** The only issue whose tests ran (`faultline run --issue`). */
  issueFilter?: string;
  /** No results file at all: the layer did not run. */
  noResults?: boolean;
  /** `faultline run` was stopped by this signal while the layer ran (`run.interrupted`). */
  interrupted?: string;
}

/** The shards of one count that a set of files holds; `undefined` when a file holds the whole layer. */
function shardsHeld(runs: readonly LayerResults[]): Map<number, Set<number>> | undefined {
  const held = new Map<number, Set<number>>();
  for (const r of runs) {
    const shards = r.shard ? { count: r.shard.count, ran: [r.shard.index] } : r.run.shards;
    if (!shards) return undefined;
    const set = held.get(shards.count) ?? new Set<number>();
    for (const i of shards.ran) set.add(i);
    held.set(shards.count, set);
  }
  return held;
}

function missingShards(runs: readonly LayerResults[]): string[] {
  const held = shardsHeld(runs);
  if (!held) return [];
  const missing: string[] = [];
  for (const [count, ran] of held) {
    for (let i = 1; i <= count; i++) if (!ran.has(i)) missing.push(`shard ${i}/${count} did not run`);
  }
  return missing;
}

/** The layers (among `layers`) whose results are partial, and why; a layer with no results is the largest gap. */
export function layerGaps(results: readonly LayerResults[], layers: readonly string[]): LayerGap[] {
  const gaps: LayerGap[] = [];
  for (const layer of layers) {
    const runs = results.filter((r) => r.layer === layer);
    if (runs.length === 0) {
      gaps.push({ layer, missingShards: [], noResults: true });
      continue;
    }
    const missing = missingShards(runs);
    const issueFilter = runs.find((r) => r.run.issueFilter)?.run.issueFilter;
    const interrupted = runs.find((r) => r.run.interrupted)?.run.interrupted?.signal;
    if (missing.length || issueFilter || interrupted)
      gaps.push({
        layer,
        missingShards: missing,
        ...(issueFilter ? { issueFilter } : {}),
        ...(interrupted ? { interrupted } : {}),
      });
  }
  return gaps;
}

/** What a partial layer means for one issue's cell: the reason it did not (wholly) run, if any. */
export function gapReason(gap: LayerGap | undefined, issue: string): string | undefined {
  if (!gap) return undefined;
  if (gap.noResults) return `layer ${gap.layer} has no results (did not run)`;
  if (gap.interrupted) return `layer ${gap.layer} was interrupted (${gap.interrupted}) before it finished`;
  if (gap.issueFilter && gap.issueFilter !== issue) return `filtered out by --issue ${gap.issueFilter}`;
  return gap.missingShards.length ? gap.missingShards.join('; ') : undefined;
}

/** One line for the gate: why the layer's results are partial. */
export function gapMessage(gap: LayerGap): string {
  if (gap.noResults) {
    return `layer ${gap.layer} has no results (did not run): run it (faultline run --layer ${gap.layer}) or gate only the layers that ran (--layer)`;
  }
  if (gap.interrupted) {
    return `layer ${gap.layer} was interrupted (${gap.interrupted}) before it finished: an interrupted layer never passes the gate; run it again (faultline run --layer ${gap.layer})`;
  }
  const why = [...gap.missingShards, ...(gap.issueFilter ? [`only the tests of --issue ${gap.issueFilter} ran`] : [])];
  return `layer ${gap.layer} is partial (${why.join('; ')}): a partial run never passes the gate; run the whole layer`;
}
