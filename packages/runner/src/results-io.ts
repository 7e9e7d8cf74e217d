import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LayerResults, MatrixError, type Problem, RESULTS_SCHEMA, VERIFY_FILE } from '@faultline/matrix';
import { writeFileAtomic } from './atomic.ts';
import { broken } from './breaks.ts';

/** `.faultline/results/<layer>.json`, or `<layer>.<i>of<n>.json` for a shard. */
export function resultsFileName(layer: string, shard?: { index: number; count: number }): string {
  return shard ? `${layer}.${shard.index}of${shard.count}.json` : `${layer}.json`;
}

export function writeResults(dir: string, results: LayerResults): string {
  const file = join(dir, resultsFileName(results.layer, results.shard));
  writeFileAtomic(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** Where V8 stopped parsing ("... at position N"), or the end when it ran out of input. */
function errorOffset(text: string, error: Error): number | undefined {
  if (/end of JSON input/i.test(error.message)) return text.length;
  const pos = /position (\d+)/.exec(error.message);
  return pos ? Number(pos[1]) : undefined;
}

function jsonProblem(file: string, text: string, error: Error): Problem {
  // A parse that fails at the very end is a file cut short (a write that never finished, a full disk,
  // a partial copy), not a typo: say so, and what to do.
  const offset = errorOffset(text, error);
  const cut = offset !== undefined && offset >= text.trimEnd().length;
  const message = cut
    ? `invalid JSON: the file ends before its JSON does (${text.length} bytes; cut short by a write that did not finish?): re-run the layer that wrote it or remove the file`
    : `invalid JSON: ${error.message}`;
  // V8 reports "... in JSON at position N (line L column C)" in recent versions.
  const lc = /line (\d+) column (\d+)/.exec(error.message);
  if (lc) return { file, line: Number(lc[1]), col: Number(lc[2]), message };
  const before = text.slice(0, offset ?? 0);
  return { file, line: before.split('\n').length, col: before.length - before.lastIndexOf('\n'), message };
}

/** Reads one results file, refusing anything that is not faultline results of this version. */
export function readResultsFile(file: string): LayerResults {
  const text = readFileSync(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    if (broken('rawResultsErrors')) throw error;
    throw new MatrixError([jsonProblem(file, text, error as Error)]);
  }
  const r = data as Partial<LayerResults>;
  if (!r || typeof r !== 'object' || r.schema !== RESULTS_SCHEMA) {
    throw new MatrixError([
      { file, line: 1, col: 1, message: `not a faultline results file (expected "schema": "${RESULTS_SCHEMA}")` },
    ]);
  }
  if (typeof r.layer !== 'string' || !Array.isArray(r.tests) || !Array.isArray(r.projects) || !r.run) {
    throw new MatrixError([{ file, line: 1, col: 1, message: 'results file lacks layer, run, projects or tests' }]);
  }
  return { ...r, errors: r.errors ?? [] } as LayerResults;
}

/** A layer's results file by its name: any `.json` but `faultline verify`'s verify.json beside them. */
export function isLayerResultsName(name: string): boolean {
  return name.endsWith('.json') && name !== VERIFY_FILE;
}

/** The results files in a directory (all layers, all shards), in name order. */
export function resultsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(isLayerResultsName)
    .sort()
    .map((f) => join(dir, f));
}

/** Every results file in a directory (all layers, all shards), in name order. */
export function readResultsDir(dir: string): LayerResults[] {
  return resultsFiles(dir).map(readResultsFile);
}
