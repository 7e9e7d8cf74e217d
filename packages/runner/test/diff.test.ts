import { computeCoverage, gate, type LayerResults, parseMatrix, type TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { DiffInputError, diffMarkdown, diffReports, matrixReport, parseMatrixReport } from '../src/index.ts';

const yaml = (ids: string[], system = 's') =>
  parseMatrix(
    [
      'version: 1',
      `system: ${system}`,
      'layers:',
      '  l1: { title: L1, projects: [p1] }',
      'policy: { require: [{ layers: [l1] }] }',
      'issues:',
      ...ids.map((id) => `  - { id: ${id}, title: ${id}, severity: low }`),
      '',
    ].join('\n'),
  );

function record(tag: string, state: TestRecord['state'], evidence = true): TestRecord {
  return {
    id: `p1::${tag}`,
    project: 'p1',
    file: `test/${tag}.test.ts`,
    line: 3,
    column: 1,
    name: tag,
    fullName: `suite > ${tag}`,
    tags: [tag],
    state,
    durationMs: 1,
    retryCount: 0,
    flaky: false,
    evidence: evidence ? [{ kind: 'failpoint', name: 'fp', detail: 'fired', count: 1, at: 0 }] : [],
    errors: state === 'failed' ? [{ message: 'expected 1 to be 2' }] : [],
  };
}

function report(ids: string[], tests: TestRecord[], system = 's') {
  const matrix = yaml(ids, system);
  const runs: LayerResults[] = [
    {
      schema: 'faultline/results@1',
      layer: 'l1',
      run: { seed: 1, startedAt: '', endedAt: '', durationMs: 1, capabilities: {}, versions: {} },
      projects: [{ name: 'p1', dir: 'p1', tests: tests.length, durationMs: 1, outcome: 'completed' }],
      tests,
      errors: [],
    },
  ];
  const coverage = computeCoverage(matrix, runs);
  return matrixReport(matrix, coverage, gate(coverage, matrix.policy), runs);
}

describe('faultline diff', () => {
  const base = report(
    ['a', 'b', 'c', 'gone'],
    [record('a', 'passed'), record('b', 'failed'), record('c', 'passed'), record('gone', 'passed')],
  );
  const head = report(
    ['a', 'b', 'c', 'new'],
    [record('a', 'failed'), record('b', 'passed'), record('c', 'passed', false), record('new', 'passed')],
  );

  test('regressions first, then new and removed issues and required cells, then fixes, with the tests', () => {
    const d = diffReports(base, head);
    expect(d.regressions.map((c) => [c.issue, c.from, c.to])).toEqual([
      ['a', 'covered', 'failed'],
      ['c', 'covered', 'vacuous'],
    ]);
    expect(d.regressions[0]!.tests).toEqual(['failed test/a.test.ts:3 suite > a']);
    expect([d.addedIssues, d.removedIssues, d.addedRequired, d.removedRequired]).toEqual([
      ['new'],
      ['gone'],
      ['new × l1'],
      ['gone × l1'],
    ]);
    expect(d.fixes.map((c) => [c.issue, c.from, c.to])).toEqual([['b', 'failed', 'covered']]);
    const md = diffMarkdown(d);
    const order = [
      '## Regressions (2)',
      '## New issues (1)',
      '## Removed issues (1)',
      '## New required cells (1)',
      '## Fixes (1)',
    ];
    const at = order.map((h) => md.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(md).toContain(
      '- **a × l1**: covered → failed: 1 of 1 test failed: test/a.test.ts:3 suite \\> a: expected 1 to be 2',
    );
  });

  test('an empty diff says so in one line', () => {
    const d = diffReports(base, base);
    expect(diffMarkdown(d)).toBe('No change: the 4 cells of s are in the same state.\n');
  });

  test('bad input: two systems, torn JSON, a foreign file: one line naming the file', () => {
    expect(() => diffReports(base, report(['a'], [], 'other'), { base: 'a.json', head: 'b.json' })).toThrow(
      new DiffInputError(
        'b.json: the matrix of system "other", not "s" as in a.json: compare two reports of one system',
      ),
    );
    expect(() => parseMatrixReport('{"schema": "faultline/matrix-rep', 'torn.json')).toThrow(
      /^torn\.json: not JSON \(/,
    );
    expect(() => parseMatrixReport('{"name": "x"}', 'package.json')).toThrow(
      'package.json: not a faultline matrix.json (faultline/matrix-report@1)',
    );
    expect(parseMatrixReport(JSON.stringify(base), 'ok.json').system).toBe('s');
  });
});
