import type { CellState } from '@faultline/matrix';
import { MATRIX_REPORT_SCHEMA, type MatrixReport } from './json.ts';

type ReportCell = MatrixReport['cells'][number];

/** One cell whose state changed between two reports, with the tests of the newer one. */
export interface CellChange {
  issue: string;
  layer: string;
  from: CellState;
  to: CellState;
  /** `regression`: a covered cell got worse; `fix`: a cell became covered; `change`: anything else. */
  kind: 'regression' | 'fix' | 'change';
  reason?: string;
  tests: string[];
}

export interface MatrixDiff {
  system: string;
  regressions: CellChange[];
  addedIssues: string[];
  removedIssues: string[];
  /** Required cells that appeared or disappeared (`issue × layer`). */
  addedRequired: string[];
  removedRequired: string[];
  fixes: CellChange[];
  changes: CellChange[];
  /** Cells present in both reports. */
  compared: number;
}

/** A file `diff` cannot read: one line naming it and what is wrong (exit 2). */
export class DiffInputError extends Error {}

const key = (c: Pick<ReportCell, 'issue' | 'layer'>) => `${c.issue} × ${c.layer}`;

function isReport(value: unknown): value is MatrixReport {
  if (!value || typeof value !== 'object') return false;
  const r = value as Partial<MatrixReport>;
  return r.schema === MATRIX_REPORT_SCHEMA && typeof r.system === 'string' && Array.isArray(r.cells);
}

/** A matrix.json's text as a report; torn or foreign JSON is a DiffInputError naming the file. */
export function parseMatrixReport(text: string, file: string): MatrixReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DiffInputError(`${file}: not JSON (${(error as Error).message})`);
  }
  if (!isReport(value)) throw new DiffInputError(`${file}: not a faultline matrix.json (${MATRIX_REPORT_SCHEMA})`);
  return value;
}

function change(from: ReportCell, to: ReportCell): CellChange {
  const kind = from.state === 'covered' ? 'regression' : to.state === 'covered' ? 'fix' : 'change';
  return {
    issue: to.issue,
    layer: to.layer,
    from: from.state,
    to: to.state,
    kind,
    ...(to.reason ? { reason: to.reason } : {}),
    tests: to.tests.map((t) => `${t.state} ${t.file}:${t.line} ${t.fullName}`),
  };
}

/**
 * What changed from `base` to `head`: cells whose state changed (a covered cell that got worse is a
 * regression, one that became covered a fix), issues and required cells added or removed.
 */
export function diffReports(
  base: MatrixReport,
  head: MatrixReport,
  names = { base: 'base', head: 'head' },
): MatrixDiff {
  if (base.system !== head.system) {
    throw new DiffInputError(
      `${names.head}: the matrix of system "${head.system}", not "${base.system}" as in ${names.base}: compare two reports of one system`,
    );
  }
  const before = new Map(base.cells.map((c) => [key(c), c]));
  const changed: CellChange[] = [];
  let compared = 0;
  for (const cell of head.cells) {
    const old = before.get(key(cell));
    if (!old) continue;
    compared++;
    if (old.state !== cell.state) changed.push(change(old, cell));
  }
  const ids = (r: MatrixReport) => new Set(r.issues.map((i) => i.id));
  const required = (r: MatrixReport) => new Set(r.cells.filter((c) => c.required).map(key));
  const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x));
  return {
    system: head.system,
    regressions: changed.filter((c) => c.kind === 'regression'),
    addedIssues: minus(ids(head), ids(base)),
    removedIssues: minus(ids(base), ids(head)),
    addedRequired: minus(required(head), required(base)),
    removedRequired: minus(required(base), required(head)),
    fixes: changed.filter((c) => c.kind === 'fix'),
    changes: changed.filter((c) => c.kind === 'change'),
    compared,
  };
}

const esc = (s: string) =>
  s
    .toWellFormed()
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`);

function changeLines(c: CellChange): string[] {
  const why = c.reason ? `: ${esc(c.reason)}` : '';
  return [
    `- **${esc(c.issue)} × ${esc(c.layer)}**: ${c.from} → ${c.to}${why}`,
    ...c.tests.slice(0, 5).map((t) => `  - ${esc(t)}`),
  ];
}

const MAX_LIST = 200;

function section(title: string, items: string[][]): string[] {
  if (!items.length) return [];
  const more = items.length > MAX_LIST ? [`- … and ${items.length - MAX_LIST} more`] : [];
  return [`## ${title} (${items.length})`, '', ...items.slice(0, MAX_LIST).flat(), ...more, ''];
}

/** True when nothing changed. */
export function emptyDiff(d: MatrixDiff): boolean {
  return (
    d.regressions.length +
      d.addedIssues.length +
      d.removedIssues.length +
      d.addedRequired.length +
      d.removedRequired.length +
      d.fixes.length +
      d.changes.length ===
    0
  );
}

/** The diff as Markdown: regressions first, then new and removed issues and required cells, then fixes. */
export function diffMarkdown(d: MatrixDiff): string {
  if (emptyDiff(d)) return `No change: the ${d.compared} cells of ${esc(d.system)} are in the same state.\n`;
  const lines = [
    `# faultline diff: ${esc(d.system)}`,
    '',
    ...section('Regressions', d.regressions.map(changeLines)),
    ...section(
      'New issues',
      d.addedIssues.map((i) => [`- ${esc(i)}`]),
    ),
    ...section(
      'Removed issues',
      d.removedIssues.map((i) => [`- ${esc(i)}`]),
    ),
    ...section(
      'New required cells',
      d.addedRequired.map((c) => [`- ${esc(c)}`]),
    ),
    ...section(
      'Required cells no longer required',
      d.removedRequired.map((c) => [`- ${esc(c)}`]),
    ),
    ...section('Fixes', d.fixes.map(changeLines)),
    ...section('Other changes', d.changes.map(changeLines)),
  ];
  return `${lines.join('\n')}\n`;
}
