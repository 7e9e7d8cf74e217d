// `faultline verify`: honest cells. For every break an issue declares (`breaks: [{ name, layers }]`),
// run that layer filtered to the issue with FAULTLINE_BREAK=<name> and expect the cell to turn red
// (`failed`: not vacuous, not covered); a control without any break must leave the cell covered.
// What it saw goes to `.faultline/results/verify.json`, which `gate` and `report` show on each cell.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  BREAK_ENV,
  type BreakResult,
  type Cell,
  type ControlResult,
  computeCoverage,
  didYouMean,
  type LayerResults,
  type LoadedMatrix,
  MatrixError,
  plural,
  VERIFY_FILE,
  VERIFY_SCHEMA,
  type VerifyResults,
} from '@faultline/matrix';
import {
  matrixDigest,
  newSeed,
  readResultsEntries,
  runLayers,
  silentProgress,
  writeFileAtomic,
} from '@faultline/runner';
import { ConfigError, UsageError } from './args.ts';

export interface VerifyTarget {
  issue: string;
  layer: string;
  name: string;
}

export interface VerifyOptions {
  /** Only the breaks of these issues. */
  issues?: readonly string[];
  /** Only the breaks of these names. */
  names?: readonly string[];
  layers?: readonly string[];
  seed?: number;
  /** Breaks run at once (default 1): each run has its own scratch dir; timing-sensitive suites want 1. */
  jobs?: number;
  /** Where the latest run's results are and verify.json goes. */
  resultsDir: string;
  /** Progress lines (one per control and break). */
  log: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM (the CLI's `interruptOnSignals`): the running layer is stopped, nothing more starts. */
  signal?: AbortSignal;
}

/** A verify run stopped by SIGINT/SIGTERM: verify.json is left as it was. */
export class VerifyInterrupted extends Error {
  readonly layer: string | undefined;
  readonly signal: string;
  constructor(signal: string, layer: string | undefined) {
    super(`interrupted (${signal})${layer ? `: stopped the ${layer} run` : ''}; verify.json left as it was`);
    this.signal = signal;
    this.layer = layer;
  }
}

export interface VerifyOutcome {
  seed: number;
  breaks: BreakResult[];
  controls: ControlResult[];
  file: string;
  durationMs: number;
}

/** The declared breaks selected by `--issue` and `--layer`, in matrix order. */
export function verifyTargets(
  loaded: LoadedMatrix,
  issues?: readonly string[],
  layers?: readonly string[],
  names?: readonly string[],
): VerifyTarget[] {
  const targets: VerifyTarget[] = [];
  for (const i of loaded.matrix.issues) {
    if (issues && !issues.includes(i.id)) continue;
    for (const b of i.breaks ?? []) {
      if (names && !names.includes(b.name)) continue;
      for (const layer of b.layers) {
        if (!layers || layers.includes(layer)) targets.push({ issue: i.id, layer, name: b.name });
      }
    }
  }
  return targets;
}

/** `--break` names: each must be declared by some issue (a typo gets the nearest declared name). */
export function checkBreakNames(loaded: LoadedMatrix, names: readonly string[] | undefined): string[] | undefined {
  if (!names) return undefined;
  const declared = [...new Set(loaded.matrix.issues.flatMap((i) => (i.breaks ?? []).map((b) => b.name)))];
  for (const name of names) {
    if (!declared.includes(name)) {
      throw new UsageError(
        `no issue declares the break "${name}"${didYouMean(name, declared)} (declared: ${declared.join(', ') || 'none'})`,
      );
    }
  }
  return [...names];
}

/** verify.json as last written, or undefined when there is none (a torn or foreign file is a config error: exit 2). */
export function readVerifyResults(resultsDir: string): VerifyResults | undefined {
  const file = join(resultsDir, VERIFY_FILE);
  return existsSync(file) ? readVerifyFile(file) : undefined;
}

function readVerifyFile(file: string): VerifyResults {
  let data: Partial<VerifyResults>;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as Partial<VerifyResults>;
  } catch (error) {
    throw new MatrixError([{ file, line: 1, col: 1, message: `invalid JSON: ${(error as Error).message}` }]);
  }
  if (data?.schema !== VERIFY_SCHEMA || !Array.isArray(data.breaks) || !Array.isArray(data.controls)) {
    throw new MatrixError([
      {
        file,
        line: 1,
        col: 1,
        message: `not a faultline verify file (expected "schema": "${VERIFY_SCHEMA}"): remove it and run \`faultline verify\``,
      },
    ]);
  }
  return data as VerifyResults;
}

const key = (t: { issue: string; layer: string; name?: string }) => `${t.issue}\u0000${t.layer}\u0000${t.name ?? ''}`;

/** The cell of `issue` in one layer's results. */
function cellOf(loaded: LoadedMatrix, runs: readonly LayerResults[], issue: string, layer: string): Cell | undefined {
  return computeCoverage(loaded.matrix, runs, { layers: [layer] }).cells.find((c) => c.issue === issue);
}

interface RunSpec {
  layer: string;
  /** Only this issue's tests (default: the whole layer). */
  issue?: string;
  /** FAULTLINE_BREAK: the break's name, or '' for a control. */
  breaks: string;
  seed: number;
  /** Only these test files (absolute). */
  files?: readonly string[];
  signal?: AbortSignal;
}

/**
 * Runs one layer (filtered to an issue, or whole) with FAULTLINE_BREAK set, into a scratch dir of its
 * own (results, lock and the processes' run dir), so runs can go side by side.
 */
async function runOnce(loaded: LoadedMatrix, scratch: string, spec: RunSpec): Promise<LayerResults[]> {
  const interrupted = spec.signal?.reason as { signal?: string } | undefined;
  if (spec.signal?.aborted) throw new VerifyInterrupted(interrupted?.signal ?? 'abort', undefined);
  const dir = mkdtempSync(join(scratch, 'run-'));
  try {
    const outcome = await runLayers(loaded, {
      progress: silentProgress,
      layers: [spec.layer],
      ...(spec.issue ? { issue: spec.issue } : {}),
      ...(spec.files?.length ? { files: spec.files } : {}),
      env: { [BREAK_ENV]: spec.breaks },
      seed: spec.seed,
      resultsDir: join(dir, 'results'),
      runDir: join(dir, 'run'),
      runId: `verify-${spec.seed}`,
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    if (outcome.interrupted) throw new VerifyInterrupted(outcome.interrupted.signal, outcome.interrupted.layer);
    return outcome.results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The cells without any break: the latest results where they hold the cell, else a run of their own
 * (the whole layer when several cells of it need one, the issue alone otherwise).
 */
async function controls(
  loaded: LoadedMatrix,
  targets: readonly VerifyTarget[],
  options: VerifyOptions,
  scratch: string,
  seed: number,
): Promise<ControlResult[]> {
  const cells = [...new Map(targets.map((t) => [key({ issue: t.issue, layer: t.layer }), t])).values()];
  const latest = readResultsEntries(options.resultsDir).map((e) => e.results);
  const out: ControlResult[] = [];
  const toRun = new Map<string, VerifyTarget[]>();
  for (const t of cells) {
    const runs = latest.filter((r) => r.layer === t.layer);
    const cell = runs.length ? cellOf(loaded, runs, t.issue, t.layer) : undefined;
    if (cell && cell.tests.length > 0 && cell.state !== 'not-run') {
      out.push(control(t, cell, 'results'));
    } else toRun.set(t.layer, [...(toRun.get(t.layer) ?? []), t]);
  }
  for (const [layer, pending] of toRun) {
    const whole = pending.length > 1;
    const signal = options.signal ? { signal: options.signal } : {};
    const runs = whole ? await runOnce(loaded, scratch, { layer, breaks: '', seed, ...signal }) : [];
    for (const t of pending) {
      const own = whole ? runs : await runOnce(loaded, scratch, { layer, issue: t.issue, breaks: '', seed, ...signal });
      const cell = cellOf(loaded, own, t.issue, t.layer);
      out.push(control(t, cell, 'run'));
    }
  }
  for (const c of out) {
    options.log(
      `  control ${c.issue} × ${c.layer} without a break: ${c.state}${c.source === 'results' ? ' (latest results)' : ''}`,
    );
  }
  return out;
}

function control(t: VerifyTarget, cell: Cell | undefined, source: ControlResult['source']): ControlResult {
  return {
    issue: t.issue,
    layer: t.layer,
    state: cell?.state ?? 'missing',
    ...(cell?.reason ? { reason: cell.reason } : {}),
    source,
    ...(cell?.tests.length ? { files: [...new Set(cell.tests.map((x) => x.file))].sort() } : {}),
  };
}

/** Caught only when the cell failed with the break and was covered without it. */
function judge(
  t: VerifyTarget,
  ctl: ControlResult | undefined,
  cell: Cell | undefined,
  fileErrors: readonly string[],
): { state: string; outcome: BreakResult['outcome']; reason: string | undefined } {
  const state = cell?.state ?? 'missing';
  if (ctl && ctl.state !== 'covered') {
    const why = ctl.reason ? ` (${ctl.reason})` : '';
    return {
      state,
      outcome: 'control-failed',
      reason: `without any break the cell is ${ctl.state}${why}: a red cell proves nothing about the break`,
    };
  }
  if (state === 'failed') return { state, outcome: 'caught', reason: cell?.reason };
  const errors = fileErrors.length ? `; file errors: ${fileErrors.slice(0, 2).join('; ')}` : '';
  const why = cell?.reason ? ` (${cell.reason})` : '';
  return { state, outcome: 'missed', reason: `with ${BREAK_ENV}=${t.name} the cell stayed ${state}${why}${errors}` };
}

/** One break: run, judge against its control. */
async function verifyBreak(
  loaded: LoadedMatrix,
  t: VerifyTarget,
  ctl: ControlResult | undefined,
  scratch: string,
  seed: number,
  signal?: AbortSignal,
): Promise<BreakResult> {
  const started = Date.now();
  const root = dirname(loaded.file);
  const files = ctl?.state === 'covered' ? ctl.files?.map((f) => join(root, f)) : undefined;
  const runs = await runOnce(loaded, scratch, {
    layer: t.layer,
    issue: t.issue,
    breaks: t.name,
    seed,
    ...(files ? { files } : {}),
    ...(signal ? { signal } : {}),
  });
  const cell = cellOf(loaded, runs, t.issue, t.layer);
  const fileErrors = runs.flatMap((r) => r.errors).map((e) => `${e.file}: ${e.message.split('\n')[0]}`);
  const { state, outcome, reason } = judge(t, ctl, cell, fileErrors);
  const place = (x: Cell['tests'][number]) => `${x.file}:${x.line} ${x.fullName}`;
  const passed = (cell?.tests ?? []).filter((x) => x.state === 'passed' || x.state === 'flaky').map(place);
  const failed = (cell?.tests ?? []).filter((x) => x.state === 'failed').map(place);
  return {
    ...t,
    outcome,
    state,
    ...(reason ? { reason } : {}),
    passed,
    ...(failed.length ? { failed } : {}),
    ...(fileErrors.length ? { fileErrors } : {}),
    seed,
    durationMs: Date.now() - started,
    verifiedAt: new Date().toISOString(),
  };
}

/** Runs every selected break and its control; merges the outcome into verify.json (atomically). */
export async function runVerify(loaded: LoadedMatrix, options: VerifyOptions): Promise<VerifyOutcome> {
  const started = Date.now();
  const targets = verifyTargets(loaded, options.issues, options.layers, options.names);
  if (targets.length === 0) {
    const which = [
      options.names && `break ${options.names.join(', ')}`,
      options.issues && `issue ${options.issues.join(', ')}`,
      options.layers && `layer ${options.layers.join(', ')}`,
    ]
      .filter(Boolean)
      .join(' in ');
    throw new ConfigError(
      `${loaded.file}: no break declared${which ? ` for ${which}` : ''}: add \`breaks: [{ name: <switch>, layers: [l1] }]\` to an issue (the system under test reads the switch from ${BREAK_ENV})`,
    );
  }
  const seed = options.seed ?? newSeed();
  const root = dirname(loaded.file);
  mkdirSync(join(root, '.faultline'), { recursive: true });
  const scratch = mkdtempSync(join(root, '.faultline', 'verify-'));
  try {
    const ctl = await controls(loaded, targets, options, scratch, seed);
    const breaks = await pool(targets, options.jobs ?? 1, async (t) => {
      const own = ctl.find((c) => c.issue === t.issue && c.layer === t.layer);
      const r = await verifyBreak(loaded, t, own, scratch, seed, options.signal);
      options.log(breakLine(r));
      return r;
    });
    const file = writeVerifyResults(loaded, options.resultsDir, breaks, ctl);
    return { seed, breaks, controls: ctl, file, durationMs: Date.now() - started };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Maps `items` through `fn`, at most `jobs` at a time; results in input order. */
async function pool<T, R>(items: readonly T[], jobs: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (next < items.length && !stop) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (error) {
        stop = true;
        throw error;
      }
    }
  };
  // Every worker settles before the scratch dir goes: a failure in one lets the others finish their run.
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, worker));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return out;
}

/** `✓ chunk-corruption × l1 skipChunkVerify: caught (failed) 4.1 s`, with the tests still green under a miss. */
export function breakLine(r: BreakResult): string {
  const mark = r.outcome === 'caught' ? '✓' : '✗';
  const secs = `${(r.durationMs / 1000).toFixed(1)} s`;
  const head = `  ${mark} ${r.issue} × ${r.layer} ${BREAK_ENV}=${r.name}: ${r.outcome === 'caught' ? 'caught' : r.outcome === 'missed' ? 'NOT caught' : 'control failed'} (${r.state}) ${secs}`;
  const lines = [head];
  if (r.outcome !== 'caught' && r.reason) lines.push(`      ${r.reason}`);
  if (r.outcome === 'missed') for (const p of r.passed) lines.push(`      still passed: ${p}`);
  return lines.join('\n');
}

/** Keeps what earlier runs verified for other cells; replaces what this run saw. */
function writeVerifyResults(
  loaded: LoadedMatrix,
  resultsDir: string,
  breaks: readonly BreakResult[],
  ctl: readonly ControlResult[],
): string {
  const next: VerifyResults = {
    schema: VERIFY_SCHEMA,
    matrixDigest: matrixDigest(loaded.file),
    breaks: [...breaks],
    controls: [...ctl],
  };
  const file = join(resultsDir, VERIFY_FILE);
  writeFileAtomic(file, `${JSON.stringify(combineVerify(safeRead(resultsDir), next), null, 2)}\n`);
  return file;
}

/** `next`'s entries replace `before`'s for the same cell and break; the rest of `before` is kept. */
function combineVerify(before: VerifyResults | undefined, next: VerifyResults): VerifyResults {
  const ran = new Set(next.breaks.map(key));
  const controlled = new Set(next.controls.map((c) => key(c)));
  return {
    schema: VERIFY_SCHEMA,
    ...(next.matrixDigest ? { matrixDigest: next.matrixDigest } : {}),
    breaks: [...(before?.breaks ?? []).filter((b) => !ran.has(key(b))), ...next.breaks],
    controls: [...(before?.controls ?? []).filter((c) => !controlled.has(key(c))), ...next.controls],
  };
}

/**
 * `faultline merge`: the verify.json files of several jobs (one per layer, say) combined into the
 * results directory's. Files are taken oldest first by their newest break, so where two verified the
 * same break the later run wins. Files of different matrices are refused, as results files are.
 */
export function mergeVerifyFiles(files: readonly string[], resultsDir: string): { file: string; breaks: number } {
  const inputs = files.map((f) => ({ file: f, data: readVerifyFile(f) }));
  const digests = [...new Set(inputs.map((i) => i.data.matrixDigest ?? 'unknown'))];
  if (digests.length > 1) {
    throw new ConfigError(
      `verify files of different matrices (${inputs.map((i) => `${i.file}: ${i.data.matrixDigest ?? 'unknown'}`).join('; ')}): merge the verify files of one matrix`,
    );
  }
  const newest = (v: VerifyResults) =>
    v.breaks
      .map((b) => b.verifiedAt)
      .sort()
      .at(-1) ?? '';
  inputs.sort((a, b) => newest(a.data).localeCompare(newest(b.data)));
  const merged = inputs.reduce<VerifyResults | undefined>((acc, i) => combineVerify(acc, i.data), undefined);
  const file = join(resultsDir, VERIFY_FILE);
  if (merged) writeFileAtomic(file, `${JSON.stringify(merged, null, 2)}\n`);
  return { file, breaks: merged?.breaks.length ?? 0 };
}

/** An unreadable earlier verify.json is replaced, not merged. */
function safeRead(resultsDir: string): VerifyResults | undefined {
  try {
    return readVerifyResults(resultsDir);
  } catch {
    return undefined;
  }
}

/** The last line: `verify: 5 of 6 breaks caught in 48.2 s (seed 7)`. */
export function verifySummary(o: VerifyOutcome): string {
  const caught = o.breaks.filter((b) => b.outcome === 'caught').length;
  return `verify: ${caught} of ${plural(o.breaks.length, 'break')} caught in ${(o.durationMs / 1000).toFixed(1)} s (seed ${o.seed}; replay with --seed ${o.seed}); results: ${o.file}`;
}
