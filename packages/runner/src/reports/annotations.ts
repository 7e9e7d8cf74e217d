import { type Coverage, cut, type GateReason, type GateReasonCode, type Verdict } from '@faultline/matrix';

/** GitHub shows at most 10 annotations of each type per step (and 50 per job). */
export const ANNOTATIONS_PER_TYPE = 10;
/** An annotation's text: the reason and its detail (error excerpt with the diff), cut to this many characters. */
const MAX_MESSAGE = 2000;

const order: GateReasonCode[] = [
  'failed',
  'file-error',
  'partial',
  'missing',
  'unverified',
  'vacuous',
  'vacuous-test',
  'not-run',
  'unknown-tag',
  'empty-project',
  'planned',
];

// Workflow-command escaping, as the GitHub Actions toolkit does it.
const data = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const prop = (s: string) => data(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

export interface AnnotationContext {
  coverage: Coverage;
  /** Workspace-relative matrix path and the line of an issue in it, for cells without a test. */
  matrixFile: string;
  issueLine: (issueId: string) => number;
}

function place(reason: GateReason, ctx: AnnotationContext): { file: string; line: number } {
  if (reason.file) return { file: reason.file, line: reason.line ?? 1 };
  if (reason.issue && reason.layer) {
    const cell = ctx.coverage.cells.find((c) => c.issue === reason.issue && c.layer === reason.layer);
    const test = cell?.tests.find((t) => t.state === 'failed') ?? cell?.tests[0];
    if (test) return { file: test.file, line: test.line };
    return { file: ctx.matrixFile, line: ctx.issueLine(reason.issue) };
  }
  return { file: ctx.matrixFile, line: 1 };
}

function lines(kind: 'error' | 'warning', reasons: readonly GateReason[], ctx: AnnotationContext): string[] {
  const sorted = [...reasons].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
  const out = sorted.slice(0, ANNOTATIONS_PER_TYPE).map((r) => {
    const { file, line } = place(r, ctx);
    const text = cut(r.detail ? `${r.message}\n\n${r.detail}` : r.message, MAX_MESSAGE);
    return `::${kind} file=${prop(file)},line=${line},title=${prop(`faultline ${r.code}`)}::${data(text)}`;
  });
  if (sorted.length > ANNOTATIONS_PER_TYPE) {
    out.push(
      `::notice title=faultline::${sorted.length - ANNOTATIONS_PER_TYPE} more gate ${kind}s not annotated: see the job summary (reports/matrix.md)`,
    );
  }
  return out;
}

/**
 * GitHub Actions workflow commands for the verdict: failures first (failed cells, file errors,
 * then missing, vacuous...), at most 10 errors and 10 warnings, then a pointer to the rest.
 */
export function githubAnnotations(verdict: Verdict, ctx: AnnotationContext): string[] {
  return [...lines('error', verdict.failures, ctx), ...lines('warning', verdict.warnings, ctx)];
}
