import type { CellState } from './coverage.ts';

// How every report names and orders the cell states (the terminal, matrix.md, matrix.html and its
// script): one table, so a new state cannot be shown in one report and missing from another.

/** The words for a state in prose and in the HTML report. */
export const STATE_LABEL: Readonly<Record<CellState, string>> = {
  covered: 'covered',
  failed: 'failed',
  flaky: 'flaky',
  vacuous: 'vacuous',
  skipped: 'skipped',
  'not-run': 'not run',
  missing: 'missing',
  planned: 'planned',
  'not-required': 'not required',
};

/** The icon of a state in Markdown (GitHub renders the emoji). */
export const STATE_ICON: Readonly<Record<CellState, string>> = {
  covered: '✅',
  failed: '❌',
  flaky: '🎲',
  vacuous: '⚠️',
  skipped: '⏭️',
  'not-run': '⏸️',
  missing: '🚫',
  planned: '🗓️',
  'not-required': '·',
};

/** Worst first: failures, then what is merely not covered; covered and not-required last. */
export const STATE_ORDER: readonly CellState[] = [
  'failed',
  'missing',
  'skipped',
  'flaky',
  'vacuous',
  'not-run',
  'planned',
  'covered',
  'not-required',
];
