import { verifyRequired } from './policy.ts';
import type { Issue, Matrix } from './schema.ts';

// Honest cells: an issue's `breaks` name switches that remove its protection. `faultline verify`
// runs each one and expects the cell to turn red; what it saw is kept in `.faultline/results/verify.json`
// (a `VerifyResults`) and shown on each cell as its `CellVerification`.

export const VERIFY_SCHEMA = 'faultline/verify@1';
/** The environment variable through which the system under test learns which breaks are on. */
export const BREAK_ENV = 'FAULTLINE_BREAK';
/** The file `faultline verify` writes in the results directory. */
export const VERIFY_FILE = 'verify.json';

/**
 * `caught`: with the break the cell failed, without it the cell is covered. `missed`: with the break the
 * cell stayed green (covered, vacuous, flaky, ...). `control-failed`: the cell is not covered even
 * without the break, so a red cell proves nothing about it.
 */
export type BreakOutcome = 'caught' | 'missed' | 'control-failed';

/** One declared break as `faultline verify` last ran it. */
export interface BreakResult {
  issue: string;
  layer: string;
  name: string;
  outcome: BreakOutcome;
  /** The cell's state with the break set. */
  state: string;
  reason?: string;
  /** Tests of the cell that still passed with the break set (`file:line full name`). */
  passed: string[];
  /** Tests of the cell that failed with the break set (`file:line full name`). */
  failed?: string[];
  /** Test files that did not load or crashed with the break set: a break should fail tests, not collection. */
  fileErrors?: string[];
  seed: number;
  durationMs: number;
  verifiedAt: string;
}

/** The cell without any break: the latest run's results, or a run of its own. */
export interface ControlResult {
  issue: string;
  layer: string;
  state: string;
  reason?: string;
  source: 'results' | 'run';
  /** The files holding the cell's tests (relative to the matrix): a break runs only these. */
  files?: string[];
}

/** `.faultline/results/verify.json`. */
export interface VerifyResults {
  schema: typeof VERIFY_SCHEMA;
  /** The matrix the breaks were run against (`sha256:<hex>`). */
  matrixDigest?: string;
  breaks: BreakResult[];
  controls: ControlResult[];
}

/** What a cell shows about its declared breaks ("verified: 2 of 2 breaks caught"). */
export interface CellVerification {
  /** Breaks the issue declares for this layer. */
  declared: number;
  caught: number;
  /** `policy.verify` selects this cell: every declared break must be caught, and at least one declared. */
  required: boolean;
  breaks: Array<{ name: string; outcome: BreakOutcome | 'unverified'; reason?: string; passed?: string[] }>;
}

/** The breaks an issue declares for one layer. */
export function declaredBreaks(issue: Issue, layer: string): string[] {
  return (issue.breaks ?? []).filter((b) => b.layers.includes(layer)).map((b) => b.name);
}

/** "verified: 2 of 2 breaks caught", or "no break declared". */
export function verificationSummary(v: CellVerification): string {
  if (v.declared === 0) return 'no break declared';
  if (v.breaks.every((b) => b.outcome === 'unverified')) {
    return `not verified: ${v.declared} break${v.declared > 1 ? 's' : ''} declared`;
  }
  return `verified: ${v.caught} of ${v.declared} break${v.declared > 1 ? 's' : ''} caught`;
}

/**
 * A cell's verification from the latest verify results, or `undefined` when the cell has nothing to
 * show (no declared break, and the policy does not ask for one).
 */
export function cellVerification(
  matrix: Matrix,
  issue: Issue,
  layer: string,
  results: VerifyResults | undefined,
): CellVerification | undefined {
  const names = declaredBreaks(issue, layer);
  const required = verifyRequired(matrix, issue);
  if (names.length === 0 && !required) return undefined;
  const breaks = names.map((name): CellVerification['breaks'][number] => {
    const r = results?.breaks.find((b) => b.issue === issue.id && b.layer === layer && b.name === name);
    if (!r) return { name, outcome: 'unverified', reason: 'never verified: run `faultline verify`' };
    return {
      name,
      outcome: r.outcome,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.passed.length ? { passed: r.passed } : {}),
    };
  });
  const caught = breaks.filter((b) => b.outcome === 'caught').length;
  return { declared: names.length, caught, required, breaks };
}

/** The one-line reason a cell's verification falls short, or undefined when every declared break was caught. */
export function verificationShortfall(v: CellVerification): string | undefined {
  if (v.declared === 0) {
    return 'declares no break for this layer: add `breaks: [{ name: <switch>, layers: [...] }]` to the issue and run `faultline verify`';
  }
  if (v.caught === v.declared) return undefined;
  const parts = v.breaks
    .filter((b) => b.outcome !== 'caught')
    .map((b) => {
      if (b.outcome === 'unverified') return `${b.name} never verified`;
      if (b.outcome === 'control-failed') return `${b.name}: the cell is not covered without it`;
      const still = b.passed?.length ? ` (still passed: ${b.passed.slice(0, 3).join('; ')})` : '';
      return `${b.name} left the cell green${still}`;
    });
  return `${verificationSummary(v)}: ${parts.join('; ')}`;
}
