import type { Cell, Coverage } from './coverage.ts';
import { firstLine, plural } from './failures.ts';
import type { GateReason } from './gate.ts';
import type { Policy } from './schema.ts';

const MAX_DETAILED = 3;

/** Where a failed cell failed (its first failed test) and each failed test's error excerpt, for the gate. */
export function failedPlace(cell: Cell): Pick<GateReason, 'file' | 'line' | 'detail'> {
  const failed = cell.tests.filter((t) => t.state === 'failed');
  const first = failed[0];
  if (!first) return {};
  const detail = failed
    .slice(0, MAX_DETAILED)
    .map((t) => `${t.file}:${t.line} ${t.fullName}${t.error ? `\n${t.error}` : ''}`)
    .join('\n\n');
  const more =
    failed.length > MAX_DETAILED ? `\n\n… and ${plural(failed.length - MAX_DETAILED, 'more failed test')}` : '';
  return { file: first.file, line: first.line, detail: detail + more };
}

/**
 * `1 of 3 tests of write-atomic × l1 recorded no fault`: passing tests that claim an issue and proved
 * nothing, in a cell that is not vacuous as a whole (other tests cover or fail it). Policy `vacuousTests`.
 */
export function vacuousTestReasons(
  cells: readonly Cell[],
  policy: Pick<Policy, 'vacuousTests'>,
  failures: GateReason[],
  warnings: GateReason[],
): void {
  if (policy.vacuousTests === 'allow') return;
  for (const cell of cells) {
    const quiet = cell.tests.filter((t) => t.vacuous);
    const first = quiet[0];
    if (!first || cell.state === 'vacuous') continue;
    const names = quiet.slice(0, MAX_DETAILED).map((t) => `${t.file}:${t.line} ${t.fullName}`);
    const more = quiet.length > MAX_DETAILED ? `; and ${quiet.length - MAX_DETAILED} more` : '';
    const reason: GateReason = {
      code: 'vacuous-test',
      issue: cell.issue,
      layer: cell.layer,
      message: `${quiet.length} of ${plural(cell.tests.length, 'test')} of ${cell.issue} × ${cell.layer} recorded no fault: ${names.join('; ')}${more}`,
      file: first.file,
      line: first.line,
    };
    (policy.vacuousTests === 'fail' ? failures : warnings).push(reason);
  }
}

/** A tag no issue declares, with the nearest issue id and the first test using it. */
export function unknownTagReason(u: Coverage['unknownTags'][number]): GateReason {
  const hint = u.suggestion ? ` (did you mean \`${u.suggestion}\`?)` : '';
  return {
    code: 'unknown-tag',
    layer: u.layer,
    message: `tag "${u.tag}" is declared by no issue in the matrix${hint} (used by ${plural(u.tests.length, 'test')} in ${u.layer}, e.g. ${u.tests[0]})`,
    file: u.file,
    line: u.line,
  };
}

/** A file that failed as a whole: one line at its place; the whole message is the detail. */
export function fileErrorReason(e: Coverage['fileErrors'][number]): GateReason {
  const where = e.line ? `${e.file}:${e.line}` : e.file;
  const message = `${where}: ${e.kind}: ${firstLine(e.message, 300)}`;
  return {
    code: 'file-error',
    layer: e.layer,
    message,
    file: e.file,
    ...(e.line ? { line: e.line } : {}),
    ...(e.message.trim() !== firstLine(e.message, 300) ? { detail: e.message } : {}),
  };
}
