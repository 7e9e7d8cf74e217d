import type { Cell, CellState, CellTest, GateReason } from '@faultline/matrix';
import { MATRIX_REPORT_SCHEMA, type MatrixReport } from '../src/reports/json.ts';

/** Strings that must render as text: markup, a script end tag, CDATA end, control characters, lone surrogates. */
export const hostileTitle = `<img src=x onerror=alert(1)> </script><script>alert(2)</script> ]]> \u0000\u0001\u001f\u007f \ud800 lone \udfff \u2028\u2029 <!-- end`;

type Issue = MatrixReport['issues'][number];
type Layer = MatrixReport['layers'][number];

const layers: Layer[] = [
  { id: 'unit', title: 'Unit: in-process fakes', ran: true, seeds: [1234], durationMs: 8_420, tests: 0, failed: 0 },
  {
    id: 'integration',
    title: 'Integration: real fs and processes',
    ran: true,
    seeds: [1234],
    durationMs: 61_300,
    tests: 0,
    failed: 0,
  },
  {
    id: 'system',
    title: 'System: network faults through toxiproxy',
    ran: true,
    seeds: [1234, 99],
    backend: 'containers',
    durationMs: 184_000,
    tests: 0,
    failed: 0,
  },
];

function test(issue: string, layer: string, n: number, state: CellTest['state'], evidence: number): CellTest {
  const file = `suites/media-cache/test/${layer}/${issue.toLowerCase()}.test.ts`;
  return {
    id: `${layer}::${file}::${issue} case ${n}`,
    name: `${issue} case ${n}`,
    fullName: `${layer} > ${issue} > case ${n}`,
    file,
    line: 10 + n * 7,
    state,
    durationMs: 12 + n * 31,
    evidence,
    flaky: false,
  };
}

function evidence(issue: string, layer: string, n: number): Cell['evidence'][number] {
  return {
    kind: n % 2 ? 'toxic' : 'failpoint',
    name: `${issue.toLowerCase()}.${layer}.fp${n}`,
    detail: `EVIDENCE ${issue}/${layer}: fault #${n} fired after write ${n * 3}`,
    source: '@faultline/failpoints',
    count: n + 1,
    attributes: { probability: 0.5, seed: 1234, target: `disk-${n}` },
    at: 1_760_000_000_000 + n,
  };
}

const reasons: Partial<Record<CellState, (tests: number) => string>> = {
  failed: (n) => `1 of ${n} tests failed`,
  vacuous: (n) => `${n} passing tests recorded no fault evidence: the fault never fired`,
  'not-run': (n) => `all ${n} tests were skipped: no container runtime`,
  missing: () => 'no test is tagged with this issue in this layer',
  planned: () => 'planned: no test yet',
};

/** A failed test's error excerpt as matrix.json carries it: first lines and the expected/received diff. */
export const FAILED_EXCERPT = 'AssertionError: expected 200 to be 503\n- Expected\n+ Received\n\n- 503\n+ 200';

/** A cell in the given state with plausible tests and evidence. */
function cell(issue: string, layer: string, state: CellState, required = state !== 'not-required'): Cell {
  const count =
    state === 'missing' || state === 'planned' || state === 'not-required'
      ? 0
      : state === 'failed'
        ? 2
        : 1 + (Number(issue.replace(/\D/g, '')) % 3);
  const tests = Array.from({ length: count }, (_, i) => {
    const testState =
      state === 'failed' && i === 0 ? 'failed' : state === 'not-run' ? 'skipped' : ('passed' as CellTest['state']);
    const t = test(issue, layer, i + 1, testState, state === 'covered' || state === 'failed' ? 2 : 0);
    if (testState === 'failed') return { ...t, error: FAILED_EXCERPT };
    // Beside covering tests, the last of several passed without a fault: reported per test.
    if (state === 'covered' && count > 1 && i === count - 1) return { ...t, evidence: 0, vacuous: true as const };
    return t;
  });
  const ev = state === 'covered' || state === 'failed' ? [evidence(issue, layer, 1), evidence(issue, layer, 2)] : [];
  const reason = reasons[state]?.(count);
  return { issue, layer, required, state, tests, evidence: ev, ...(reason ? { reason } : {}) };
}

function finish(
  system: string,
  issues: Issue[],
  cells: Cell[],
  extra: { failures?: GateReason[]; warnings?: GateReason[] } = {},
): MatrixReport {
  const counts = {
    covered: 0,
    failed: 0,
    flaky: 0,
    vacuous: 0,
    skipped: 0,
    'not-run': 0,
    missing: 0,
    planned: 0,
    'not-required': 0,
  } satisfies Record<CellState, number>;
  const failures: GateReason[] = [...(extra.failures ?? [])];
  const warnings: GateReason[] = [...(extra.warnings ?? [])];
  for (const c of cells) {
    counts[c.state]++;
    const where = { issue: c.issue, layer: c.layer };
    if (c.state === 'failed')
      failures.push({ code: 'failed', message: `${c.issue} × ${c.layer} failed: ${c.reason}`, ...where });
    if (c.state === 'missing')
      failures.push({ code: 'missing', message: `${c.issue} × ${c.layer} is required but has no test`, ...where });
    if (c.state === 'vacuous')
      failures.push({ code: 'vacuous', message: `${c.issue} × ${c.layer} is vacuous`, ...where });
    if (c.state === 'not-run')
      warnings.push({ code: 'not-run', message: `${c.issue} × ${c.layer} did not run`, ...where });
    if (c.state === 'planned')
      warnings.push({ code: 'planned', message: `${c.issue} × ${c.layer} is planned, not covered`, ...where });
  }
  const layerStats = layers.map((l) => {
    const tests = cells.filter((c) => c.layer === l.id).flatMap((c) => c.tests);
    return { ...l, tests: tests.length, failed: tests.filter((t) => t.state === 'failed').length };
  });
  return {
    schema: MATRIX_REPORT_SCHEMA,
    system,
    generatedAt: '2026-01-15T10:20:30.000Z',
    verdict: { passed: failures.length === 0, failures, warnings },
    counts,
    layers: layerStats,
    issues,
    cells,
    unknownTags: [],
    emptyProjects: [],
    fileErrors: [],
    vacuousTests: [],
  };
}

const issue = (id: string, title: string, severity: string, tags: string[], status = 'active'): Issue => ({
  id,
  title,
  severity,
  tags,
  status,
  required: ['unit', 'integration', 'system'],
});

/** Eight issues covering every cell state, one with a hostile title; the failed test has an error. */
export function smallReport(): MatrixReport {
  const rows: Array<[Issue, CellState, CellState, CellState]> = [
    [
      issue('MC-101', 'Cache survives torn writes on power loss', 'critical', ['fs', 'durability']),
      'covered',
      'covered',
      'covered',
    ],
    [
      issue('MC-102', 'Upstream 503 bursts trigger stale-while-revalidate', 'high', ['network']),
      'covered',
      'failed',
      'not-run',
    ],
    [
      issue('MC-103', 'Eviction under ENOSPC keeps the index consistent', 'high', ['fs']),
      'vacuous',
      'covered',
      'not-required',
    ],
    [issue('MC-104', hostileTitle, 'medium', ['security']), 'covered', 'missing', 'not-required'],
    [
      issue('MC-105', 'Slow upstream (latency toxic) does not block readers', 'medium', ['network', 'latency']),
      'not-required',
      'covered',
      'covered',
    ],
    [
      issue('MC-106', 'Crash during compaction resumes cleanly', 'critical', ['crash'], 'planned'),
      'planned',
      'planned',
      'planned',
    ],
    [
      issue('MC-107', 'Partial reads from a reset connection are retried', 'low', ['network']),
      'covered',
      'covered',
      'not-run',
    ],
    [issue('MC-108', 'SIGTERM drains in-flight requests', 'low', ['signals']), 'covered', 'not-required', 'missing'],
  ];
  const cells = rows.flatMap(([i, ...states]) => states.map((s, j) => cell(i.id, layers[j]!.id, s)));
  const unknownTag: GateReason = {
    code: 'unknown-tag',
    layer: 'unit',
    message: 'tag "MC-999" is declared by no issue in the matrix (used by 1 test in unit, e.g. t)',
  };
  return finish(
    'media-cache <b>bold</b>',
    rows.map(([i]) => i),
    cells,
    { failures: [unknownTag] },
  );
}

/** The error the failed test of the small report carries, for `matrixHtml`'s details. */
export function smallErrors(report: MatrixReport): Record<string, string[]> {
  const failed = report.cells.flatMap((c) => c.tests).find((t) => t.state === 'failed')!;
  return {
    [failed.id]: [
      `AssertionError: expected 200 to be 503 ${hostileTitle}\n    at suites/media-cache/test/x.test.ts:42:7`,
    ],
  };
}

/** `n` issues × 3 layers with a deterministic mix of states (mostly covered). */
export function largeReport(n = 1000): MatrixReport {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const pick = (): CellState => {
    const r = rand();
    if (r < 0.7) return 'covered';
    if (r < 0.76) return 'failed';
    if (r < 0.82) return 'vacuous';
    if (r < 0.87) return 'not-run';
    if (r < 0.9) return 'missing';
    if (r < 0.94) return 'planned';
    return 'not-required';
  };
  const severities = ['critical', 'high', 'medium', 'low'];
  const tagPool = ['fs', 'network', 'crash', 'latency', 'signals', 'durability', 'memory'];
  const issues: Issue[] = [];
  const cells: Cell[] = [];
  for (let i = 0; i < n; i++) {
    const id = `MC-${String(i + 1).padStart(4, '0')}`;
    const tags = [tagPool[i % tagPool.length]!, ...(i % 3 ? [] : [tagPool[(i * 5 + 1) % tagPool.length]!])];
    issues.push(
      issue(id, `Generated resilience issue number ${i + 1} for ${tags.join(' and ')}`, severities[i % 4]!, tags),
    );
    for (const l of layers) cells.push(cell(id, l.id, pick()));
  }
  return finish('media-cache (1,000 issues)', issues, cells);
}
