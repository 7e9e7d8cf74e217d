import { computeCoverage, gate, type LayerResults, parseMatrix, type TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { matrixReport } from '../src/index.ts';
import { matrixMarkdown } from '../src/reports/markdown.ts';

const matrix = parseMatrix(
  [
    'version: 1',
    'system: s',
    'layers:',
    '  l1: { title: L1, projects: [p1] }',
    'policy: { require: [{ layers: [l1] }] }',
    'issues:',
    '  - { id: write-atomic, title: Atomic writes, severity: high }',
    '',
  ].join('\n'),
);

function record(n: number, evidence: boolean): TestRecord {
  return {
    id: `p1::t${n}`,
    project: 'p1',
    file: 'test/w.test.ts',
    line: n * 10,
    column: 1,
    name: `case ${n}`,
    fullName: `w > case ${n}`,
    tags: ['write-atomic'],
    state: 'passed',
    durationMs: 1,
    retryCount: 0,
    flaky: false,
    evidence: evidence ? [{ kind: 'failpoint', name: 'fp', detail: 'fired', count: 1, at: 0 }] : [],
    errors: [],
  };
}

const runs: LayerResults[] = [
  {
    schema: 'faultline/results@1',
    layer: 'l1',
    run: { seed: 1, startedAt: '', endedAt: '', durationMs: 1, capabilities: {}, versions: {} },
    projects: [{ name: 'p1', dir: 'p1', tests: 3, durationMs: 1, outcome: 'completed' }],
    tests: [record(1, true), record(2, false), record(3, true)],
    errors: [],
  },
];

describe('per-test evidence in the reports', () => {
  const coverage = computeCoverage(matrix, runs);
  const verdict = gate(coverage, matrix.policy);
  const message = '1 of 3 tests of write-atomic × l1 recorded no fault: test/w.test.ts:20 w > case 2';

  test('matrix.json: the quiet test is marked in its covered cell, and the warning says so', () => {
    const report = matrixReport(matrix, coverage, verdict, runs);
    const cell = report.cells[0]!;
    expect(cell.state).toBe('covered');
    expect(cell.tests.map((t) => t.vacuous === true)).toEqual([false, true, false]);
    expect(report.verdict.warnings).toContainEqual(expect.objectContaining({ code: 'vacuous-test', message }));
    expect(report.vacuousTests).toEqual([
      { layer: 'l1', test: 'test/w.test.ts:20 w > case 2', issues: ['write-atomic'] },
    ]);
  });

  test('matrix.md: the gate section carries it; under vacuousTests: fail the gate fails', () => {
    expect(matrixMarkdown(matrix, coverage, verdict, runs)).toContain(
      '- ⚠️ 1 of 3 tests of write-atomic × l1 recorded no fault: test/w.test.ts:20 w \\> case 2',
    );
    const strict = gate(coverage, { ...matrix.policy, vacuousTests: 'fail' });
    expect(strict.passed).toBe(false);
    expect(matrixMarkdown(matrix, coverage, strict, runs)).toContain('**Gate: failed ❌ (1 reason)**');
  });
});
