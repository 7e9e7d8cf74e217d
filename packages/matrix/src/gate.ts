import { gapMessage } from './completeness.ts';
import type { Coverage } from './coverage.ts';
import type { Policy } from './schema.ts';
import { failedPlace, fileErrorReason, unknownTagReason, vacuousTestReasons } from './test-reasons.ts';
import { verificationShortfall } from './verify.ts';

export type GateReasonCode =
  | 'missing'
  | 'failed'
  | 'vacuous'
  | 'vacuous-test'
  | 'flaky'
  | 'skipped'
  | 'unattributed'
  | 'not-run'
  | 'planned'
  | 'unknown-tag'
  | 'empty-project'
  | 'file-error'
  | 'partial'
  | 'quarantined'
  | 'quarantine-expired'
  | 'unverified';

export interface GateReason {
  code: GateReasonCode;
  message: string;
  issue?: string;
  layer?: string;
  /** The test file and line the reason is about (a failed or vacuous test, a file that did not load). */
  file?: string;
  line?: number;
  /** More than the one-line message: each failed test's place and first error lines with the diff. */
  detail?: string;
}

export interface Verdict {
  passed: boolean;
  failures: GateReason[];
  warnings: GateReason[];
}

function unattributedReason(u: Coverage['unattributed'][number]): GateReason {
  const first = u.evidence[0];
  const example = first ? ` (e.g. ${first.kind} ${first.name}: ${first.detail})` : '';
  const n = u.evidence.length;
  return {
    code: 'unattributed',
    layer: u.layer,
    message: `${u.file}: ${n} fault${n > 1 ? 's' : ''} fired outside any test's code path${example}; unattributed evidence covers nothing (bind it with bindEvidence())`,
  };
}

type CellOf = Coverage['cells'][number];

/**
 * A quarantined cell (issue `quarantine`) never passes silently: until its date what would fail only
 * warns, marked with the quarantine, and a cell that passes says the quarantine can go; after it, the
 * quarantine itself fails the gate.
 */
function applyQuarantine(cell: CellOf, own: Verdict, failures: GateReason[], warnings: GateReason[]): void {
  const q = cell.quarantine;
  if (!q) {
    failures.push(...own.failures);
    warnings.push(...own.warnings);
    return;
  }
  const where = { issue: cell.issue, layer: cell.layer };
  const label = `${cell.issue} × ${cell.layer}`;
  if (q.expired) {
    failures.push(...own.failures, {
      code: 'quarantine-expired',
      message: `${label}: quarantine expired on ${q.until} (${q.reason}): fix the cell or extend \`quarantine.until\``,
      ...where,
    });
    warnings.push(...own.warnings);
    return;
  }
  const note = `(quarantined until ${q.until}: ${q.reason})`;
  warnings.push(...own.failures.map((f) => ({ ...f, code: 'quarantined' as const, message: `${f.message} ${note}` })));
  warnings.push(...own.warnings);
  if (own.failures.length === 0) {
    warnings.push({ code: 'quarantined', message: `${label} is ${cell.state} ${note}: lift the quarantine`, ...where });
  }
}

/** Applies the matrix policy to coverage: every reason the gate fails, and what only warns. */
export function gate(coverage: Coverage, policy: Policy): Verdict {
  const failures: GateReason[] = [];
  const warnings: GateReason[] = [];
  for (const cell of coverage.cells) {
    const own = cellVerdict(cell, policy);
    applyQuarantine(cell, { passed: own.failures.length === 0, ...own }, failures, warnings);
  }
  coverageVerdict(coverage, failures, warnings);
  vacuousTestReasons(coverage.cells, policy, failures, warnings);
  return { passed: failures.length === 0, failures, warnings };
}

/** What one cell adds to the verdict under the policy. */
function cellVerdict(cell: CellOf, policy: Policy): { failures: GateReason[]; warnings: GateReason[] } {
  const failures: GateReason[] = [];
  const warnings: GateReason[] = [];
  {
    const where = { issue: cell.issue, layer: cell.layer };
    const label = `${cell.issue} × ${cell.layer}`;
    const why = cell.reason ? `: ${cell.reason}` : '';
    switch (cell.state) {
      case 'failed':
        failures.push({ code: 'failed', message: `${label} failed${why}`, ...where, ...failedPlace(cell) });
        break;
      case 'missing':
        failures.push({ code: 'missing', message: `${label} is required but has no test${why}`, ...where });
        break;
      case 'vacuous': {
        const reason = { code: 'vacuous' as const, message: `${label} is vacuous${why}`, ...where };
        (cell.required && policy.vacuous === 'fail' ? failures : warnings).push(reason);
        break;
      }
      case 'flaky': {
        // policy.flaky: warn lets the gate pass; the cell still is not covered.
        const reason = { code: 'flaky' as const, message: `${label} is flaky${why}`, ...where };
        (cell.required && policy.flaky === 'fail' ? failures : warnings).push(reason);
        break;
      }
      case 'skipped':
        // A skip or todo in the source is a choice, not a layer that could not run: notRun never allows it.
        if (cell.required) {
          failures.push({ code: 'skipped', message: `${label} is required but its tests did not run${why}`, ...where });
        }
        break;
      case 'not-run':
        if (cell.required) {
          const reason = { code: 'not-run' as const, message: `${label} did not run${why}`, ...where };
          (policy.notRun === 'fail' ? failures : warnings).push(reason);
        }
        break;
      case 'planned': {
        const reason = { code: 'planned' as const, message: `${label} is planned, not covered`, ...where };
        (policy.planned === 'fail' ? failures : warnings).push(reason);
        break;
      }
      default:
        break;
    }
    verifyVerdict(cell, failures, warnings);
  }
  return { failures, warnings };
}

/**
 * Honest cells: under `policy.verify` a selected cell fails unless every break it declares was caught
 * by the latest `faultline verify`; elsewhere a break known to leave its cell green only warns.
 */
function verifyVerdict(cell: CellOf, failures: GateReason[], warnings: GateReason[]): void {
  const v = cell.verify;
  if (!cell.required || !v) return;
  const shortfall = verificationShortfall(v);
  if (shortfall === undefined) return;
  const reason = {
    code: 'unverified' as const,
    message: `${cell.issue} × ${cell.layer}: ${shortfall}`,
    issue: cell.issue,
    layer: cell.layer,
  };
  if (v.required) failures.push(reason);
  else if (v.breaks.some((b) => b.outcome === 'missed' || b.outcome === 'control-failed')) warnings.push(reason);
}

/** What the coverage as a whole adds: unknown tags, unattributed evidence, empty projects, file errors, gaps. */
function coverageVerdict(coverage: Coverage, failures: GateReason[], warnings: GateReason[]): void {
  for (const u of coverage.unknownTags) failures.push(unknownTagReason(u));
  for (const u of coverage.unattributed) warnings.push(unattributedReason(u));
  for (const p of coverage.emptyProjects) {
    failures.push({
      code: 'empty-project',
      layer: p.layer,
      message: `project "${p.project}" of layer ${p.layer} ran no tests: check its vitest include patterns`,
    });
  }
  for (const e of coverage.fileErrors) failures.push(fileErrorReason(e));
  for (const g of coverage.gaps) failures.push({ code: 'partial', layer: g.layer, message: gapMessage(g) });
}
