import { actedOn, type FaultEvidence } from '@faultline/evidence';
import { attemptsState, type CellAttempts, type CellQuarantine, cellAttempts, cellQuarantine } from './attempts.ts';
import { gapReason, type LayerGap, layerGaps } from './completeness.ts';
import { errorExcerpt, firstLine, plural } from './failures.ts';
import { requiredLayers } from './policy.ts';
import type { FileError, LayerResults, TestRecord, TestState, UnattributedEvidence } from './results.ts';
import type { Issue, Matrix } from './schema.ts';
import { nearestName } from './suggest.ts';
import { type CellVerification, cellVerification, type VerifyResults } from './verify.ts';

export const cellStates = [
  'covered',
  'failed',
  'flaky',
  'vacuous',
  'skipped',
  'not-run',
  'missing',
  'planned',
  'not-required',
] as const;
export type CellState = (typeof cellStates)[number];

/** A test as listed in a cell. */
export interface CellTest {
  id: string;
  name: string;
  fullName: string;
  file: string;
  line: number;
  state: TestState;
  durationMs: number;
  evidence: number;
  flaky: boolean;
  /** A failed test's first error lines, with the expected/received diff when there is one (bounded). */
  error?: string;
  /** Passed, claims the issue, and recorded no fault that acted: covers nothing, even beside covering tests. */
  vacuous?: true;
}

/** One issue × layer cell of the coverage matrix (the shape of reports/matrix.json `cells`). */
export interface Cell {
  issue: string;
  layer: string;
  required: boolean;
  state: CellState;
  tests: CellTest[];
  evidence: FaultEvidence[];
  reason?: string;
  /** Under `run --repeat N`: the attempts the cell passed, and the seeds that failed with their replay commands. */
  attempts?: CellAttempts;
  /** The issue's quarantine (required cells only): shown in every report; only warns until it expires. */
  quarantine?: CellQuarantine;
  /** Required cells with declared breaks (or selected by `policy.verify`): what `faultline verify` saw. */
  verify?: CellVerification;
}

export interface UnknownTag {
  tag: string;
  layer: string;
  tests: string[];
  /** Where the first test using it is. */
  file: string;
  line: number;
  /** The issue id nearest to the tag, when one is close (a typo). */
  suggestion?: string;
}

export interface EmptyProject {
  layer: string;
  project: string;
}

export interface Coverage {
  cells: Cell[];
  /** Layers considered (the matrix's, or the subset asked for). */
  layers: string[];
  unknownTags: UnknownTag[];
  emptyProjects: EmptyProject[];
  fileErrors: Array<FileError & { layer: string }>;
  /** Passing tests linked to an issue that recorded no evidence, even when their cell is covered by another. */
  vacuousTests: Array<{ layer: string; test: string; issues: string[] }>;
  /** Evidence no test could be held to: shown, covers nothing. */
  unattributed: Array<UnattributedEvidence & { layer: string }>;
  counts: Record<CellState, number>;
  /** Layers whose results are partial (shards that did not run, an `--issue` filter): never a pass. */
  gaps: LayerGap[];
}

const EVIDENCE_PER_CELL = 50;

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Passed (on its last attempt) without a fault that acted. */
function quietPass(t: TestRecord): boolean {
  if (t.state === 'passed') return !t.evidence.some(actedOn);
  return t.state === 'flaky' && !passingEvidence(t).some(actedOn);
}

function cellTest(t: TestRecord): CellTest {
  const error = t.state === 'failed' ? errorExcerpt(t.errors) : undefined;
  return {
    id: t.id,
    name: t.name,
    fullName: t.fullName,
    file: t.file,
    line: t.line,
    state: t.state,
    durationMs: t.durationMs,
    evidence: t.evidence.length,
    flaky: t.flaky,
    ...(error !== undefined ? { error } : {}),
    ...(quietPass(t) ? { vacuous: true as const } : {}),
  };
}

/** `1 of 2 tests failed: file:line name: first error line` (the first failed test; how many more). */
function failedReason(failed: readonly TestRecord[], total: number): string {
  const first = failed[0];
  const head = `${failed.length} of ${plural(total, 'test')} failed`;
  if (!first) return head;
  const message = first.errors[0] ? `: ${firstLine(first.errors[0].message)}` : '';
  const more = failed.length > 1 ? `; and ${failed.length - 1} more` : '';
  return `${head}: ${first.file}:${first.line} ${first.fullName}${message}${more}`;
}

/** A covered, missing or not-run cell of a partial layer did not (wholly) run: say so, never "no test". */
function partialState(
  state: Pick<Cell, 'state' | 'reason'>,
  reason: string | undefined,
): Pick<Cell, 'state' | 'reason'> {
  if (reason === undefined || !['covered', 'missing', 'not-run'].includes(state.state)) return state;
  return { state: 'not-run', reason };
}

function stateOf(issue: Issue, required: boolean, tests: readonly TestRecord[]): Pick<Cell, 'state' | 'reason'> {
  if (tests.length === 0) {
    if (!required) return { state: 'not-required' };
    return issue.status === 'planned'
      ? { state: 'planned', reason: 'planned: no test yet' }
      : { state: 'missing', reason: 'no test is tagged with this issue in this layer' };
  }
  const failed = tests.filter((t) => t.state === 'failed');
  if (failed.length) return { state: 'failed', reason: failedReason(failed, tests.length) };
  const passed = tests.filter((t) => t.state === 'passed');
  if (passed.some((t) => t.evidence.some(actedOn))) return { state: 'covered' };
  // A retried pass proves the protection held once, not that it holds: never covered.
  const flaky = tests.filter((t) => t.state === 'flaky' && passingEvidence(t).some(actedOn));
  if (flaky.length) {
    return {
      state: 'flaky',
      reason: `${flaky.length} test${flaky.length > 1 ? 's' : ''} passed only after a retry (${flaky.map((t) => `${t.retryCount} ${t.retryCount > 1 ? 'retries' : 'retry'}`).join(', ')})`,
    };
  }
  const passedQuietly = [...passed, ...tests.filter((t) => t.state === 'flaky')];
  if (passedQuietly.length === 0) return notPassedState(issue, required, tests);
  return {
    state: 'vacuous',
    reason: `${passed.length} passing test${passed.length > 1 ? 's' : ''} recorded no fault evidence: the fault never fired${idleNote(passed)}`,
  };
}

/** The evidence of a test's last (passing) attempt: a retried test's earlier attempts failed. */
function passingEvidence(t: TestRecord): FaultEvidence[] {
  return t.evidence.filter((e) => e.attempt === undefined || e.attempt === t.retryCount);
}

const count = (n: number, what: string) => `${n} ${what}`;

/**
 * No test passed or failed: known broken (test.fails), skipped or todo in the source, or skipped
 * at run time for a missing capability. Only the last is "could not run" (notRun policy).
 */
function notPassedState(issue: Issue, required: boolean, tests: readonly TestRecord[]): Pick<Cell, 'state' | 'reason'> {
  const expected = tests.filter((t) => t.state === 'expected-fail');
  if (expected.length && !(issue.status === 'planned' && required)) {
    return {
      state: 'failed',
      reason: `${count(expected.length, expected.length > 1 ? 'tests are' : 'test is')} marked test.fails: a protection known to be broken covers nothing`,
    };
  }
  if (issue.status === 'planned' && required) {
    return { state: 'planned', reason: allSkipped(tests.length) };
  }
  const notRun = tests.filter((t) => t.state === 'not-run');
  if (notRun.length === tests.length) {
    const notes = [...new Set(notRun.map((t) => t.note).filter(Boolean))];
    return { state: 'not-run', reason: `${allSkipped(tests.length)}: ${notes.join('; ')}` };
  }
  const by = (s: TestState) => tests.filter((t) => t.state === s).length;
  const parts = [
    by('skipped') && count(by('skipped'), 'skipped'),
    by('todo') && count(by('todo'), 'todo'),
    notRun.length && count(notRun.length, 'not run'),
  ].filter(Boolean);
  return { state: 'skipped', reason: `no test ran: ${parts.join(', ')}` };
}

const allSkipped = (n: number) => (n === 1 ? 'all 1 test was skipped' : `all ${n} tests were skipped`);

/** The primitives that said they did not act, and why, so a vacuous reason names them (first 3). */
function idleNote(passed: readonly TestRecord[]): string {
  const idle = [
    ...new Set(
      passed.flatMap((t) => t.evidence.filter((e) => !actedOn(e))).map((e) => `${e.kind} ${e.name}: ${e.detail}`),
    ),
  ];
  if (idle.length === 0) return '';
  const more = idle.length > 3 ? `; and ${idle.length - 3} more` : '';
  return ` (${idle.slice(0, 3).join('; ')}${more})`;
}

/** Unknown tags that get a "did you mean": a few typos are worth it; thousands are not typos. */
const SUGGESTED_TAGS = 20;

function unknownTag(
  tag: string,
  layer: string,
  first: TestRecord,
  issueIds: ReadonlySet<string>,
  n: number,
): UnknownTag {
  const suggestion = n < SUGGESTED_TAGS ? nearestName(tag, issueIds) : undefined;
  return { tag, layer, tests: [], file: first.file, line: first.line, ...(suggestion ? { suggestion } : {}) };
}

/**
 * Links results to the matrix: one cell per issue × layer with its state. `layers` limits
 * the columns considered (default: all the matrix's layers); a layer with no results is `not-run`.
 */
export function computeCoverage(
  matrix: Matrix,
  results: readonly LayerResults[],
  options: { layers?: readonly string[]; now?: Date; verify?: VerifyResults } = {},
): Coverage {
  const layers = Object.keys(matrix.layers).filter((l) => !options.layers || options.layers.includes(l));
  const issueIds = new Set(matrix.issues.map((i) => i.id));
  const byLayer = new Map<string, LayerResults[]>();
  for (const r of results) pushTo(byLayer, r.layer, r);

  const cells: Cell[] = [];
  const unknownTags = new Map<string, UnknownTag>();
  const emptyProjects: EmptyProject[] = [];
  const fileErrors: Coverage['fileErrors'] = [];
  const vacuousTests: Coverage['vacuousTests'] = [];
  const unattributed: Coverage['unattributed'] = [];
  const testsByLayerIssue = new Map<string, TestRecord[]>();
  const gaps = layerGaps(results, layers);

  for (const layer of layers) {
    const runs = byLayer.get(layer) ?? [];
    const tests = runs.flatMap((r) => r.tests);
    for (const t of tests) {
      const issues = t.tags.filter((tag) => issueIds.has(tag));
      for (const tag of new Set(t.tags)) {
        if (issueIds.has(tag)) {
          pushTo(testsByLayerIssue, `${layer}\u0000${tag}`, t);
        } else {
          const key = `${layer}\u0000${tag}`;
          const entry = unknownTags.get(key) ?? unknownTag(tag, layer, t, issueIds, unknownTags.size);
          entry.tests.push(`${t.file}:${t.line} ${t.fullName}`);
          unknownTags.set(key, entry);
        }
      }
      if (quietPass(t) && issues.length) {
        vacuousTests.push({ layer, test: `${t.file}:${t.line} ${t.fullName}`, issues });
      }
    }
    for (const r of runs) {
      for (const e of r.errors) fileErrors.push({ ...e, layer });
      for (const u of r.unattributed ?? []) unattributed.push({ ...u, layer });
      if (r.run.notRun) continue;
      for (const p of r.projects) {
        // Under sharding a project may legitimately get no files in one shard; judge the union.
        const ranAny = runs.some((o) => o.projects.some((q) => q.name === p.name && q.tests > 0));
        if (
          !ranAny &&
          p.outcome !== 'not-run' &&
          p.outcome !== 'interrupted' &&
          !emptyProjects.some((e) => e.layer === layer && e.project === p.name)
        ) {
          emptyProjects.push({ layer, project: p.name });
        }
      }
    }
  }

  for (const issue of matrix.issues) {
    const required = requiredLayers(matrix, issue);
    for (const layer of layers) {
      const isRequired = required.has(layer);
      const runs = byLayer.get(layer) ?? [];
      const tests = testsByLayerIssue.get(`${layer}\u0000${issue.id}`) ?? [];
      let state: Pick<Cell, 'state' | 'reason'>;
      const notRun = runs.find((r) => r.run.notRun)?.run.notRun;
      if (tests.length === 0 && isRequired && issue.status === 'planned') {
        // Planned issues have no test yet: whether their layer ran or not, the cell is planned.
        state = stateOf(issue, isRequired, tests);
      } else if (runs.length === 0) {
        state = isRequired
          ? { state: 'not-run', reason: `layer ${layer} has no results (did not run)` }
          : { state: 'not-required' };
      } else if (notRun && tests.length === 0) {
        state = isRequired ? { state: 'not-run', reason: notRun } : { state: 'not-required' };
      } else {
        state = stateOf(issue, isRequired, tests);
      }
      if (isRequired)
        state = partialState(
          state,
          gapReason(
            gaps.find((g) => g.layer === layer),
            issue.id,
          ),
        );
      const attempts = cellAttempts(layer, issue.id, tests);
      const byAttempts = attempts && attemptsState(attempts);
      if (byAttempts && ['covered', 'failed', 'flaky', 'vacuous'].includes(state.state)) state = byAttempts;
      const quarantine = isRequired ? cellQuarantine(issue, options.now ?? new Date()) : undefined;
      const verify = isRequired ? cellVerification(matrix, issue, layer, options.verify) : undefined;
      const evidence = tests.flatMap((t) => t.evidence).slice(0, EVIDENCE_PER_CELL);
      cells.push({
        issue: issue.id,
        layer,
        required: isRequired,
        ...state,
        tests: tests.map(cellTest),
        evidence,
        ...(attempts ? { attempts } : {}),
        ...(quarantine ? { quarantine } : {}),
        ...(verify ? { verify } : {}),
      });
    }
  }

  const counts = Object.fromEntries(cellStates.map((s) => [s, 0])) as Record<CellState, number>;
  for (const c of cells) counts[c.state]++;
  return {
    cells,
    layers,
    unknownTags: [...unknownTags.values()],
    emptyProjects,
    fileErrors,
    vacuousTests,
    unattributed,
    counts,
    gaps,
  };
}
