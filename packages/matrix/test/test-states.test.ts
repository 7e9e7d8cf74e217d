import { describe, expect, test } from 'vitest';
import { type Coverage, computeCoverage, gate } from '../src/index.ts';
import { evidence, matrix, results, test as t } from './factories.ts';

const m = matrix({
  issues: [
    { id: 'a', title: 'A', severity: 'low', layers: ['l1'] },
    { id: 'later', title: 'Later', severity: 'low', status: 'planned', layers: ['l1'] },
  ],
});

function cell(coverage: Coverage, issue: string) {
  const found = coverage.cells.find((c) => c.issue === issue && c.layer === 'l1');
  if (!found) throw new Error(`no cell ${issue}`);
  return found;
}

const covers = (...tests: ReturnType<typeof t>[]) => computeCoverage(m, [results('l1', tests)], { layers: ['l1'] });
const codes = (coverage: Coverage, policy = m.policy) => {
  const v = gate(coverage, policy);
  return { failures: v.failures.map((f) => f.code), warnings: v.warnings.map((w) => w.code), passed: v.passed };
};

describe('flaky: a pass that needed a retry', () => {
  const retried = t(['a'], {
    state: 'flaky',
    flaky: true,
    retryCount: 1,
    evidence: [
      { ...evidence('fp'), attempt: 0 },
      { ...evidence('fp'), attempt: 1 },
    ],
  });

  test('is never covered; the gate fails by default and only warns with policy.flaky: warn', () => {
    const cov = covers(retried);
    expect(cell(cov, 'a')).toMatchObject({ state: 'flaky', reason: '1 test passed only after a retry (1 retry)' });
    expect(codes(cov)).toMatchObject({ failures: ['flaky'], passed: false });
    expect(m.policy.flaky).toBe('fail');
    expect(codes(cov, { ...m.policy, flaky: 'warn' })).toEqual({
      failures: [],
      warnings: ['flaky', 'planned'],
      passed: true,
    });
  });

  test('keeps every attempt in the cell; a fault that fired only on the failing attempt makes the pass vacuous', () => {
    expect(cell(covers(retried), 'a').evidence).toHaveLength(2);
    const onlyFirst = { ...retried, evidence: [{ ...evidence('fp'), attempt: 0 }] };
    expect(cell(covers(onlyFirst), 'a').state).toBe('vacuous');
  });

  test('a clean pass with evidence beside it still covers', () => {
    expect(cell(covers(retried, t(['a'])), 'a').state).toBe('covered');
  });
});

describe('test.fails', () => {
  test('a known-broken protection never covers: its cell fails', () => {
    const cov = covers(t(['a'], { state: 'expected-fail' }));
    expect(cell(cov, 'a')).toMatchObject({
      state: 'failed',
      reason: '1 test is marked test.fails: a protection known to be broken covers nothing',
    });
    expect(codes(cov).failures).toEqual(['failed']);
  });
});

describe('skipped and todo tests', () => {
  test('are their own state, shown with counts, and notRun: allow does not let them pass', () => {
    const cov = covers(
      t(['a'], { state: 'skipped', evidence: [] }),
      t(['a'], { state: 'todo', evidence: [] }),
      t(['a'], { state: 'todo', evidence: [] }),
    );
    expect(cell(cov, 'a')).toMatchObject({ state: 'skipped', reason: 'no test ran: 1 skipped, 2 todo' });
    expect(cov.counts.skipped).toBe(1);
    expect(codes(cov, { ...m.policy, notRun: 'allow' })).toMatchObject({ failures: ['skipped'], passed: false });
  });

  test('a test that skipped itself for a missing capability is not-run, which notRun: allow allows', () => {
    const cov = covers(t(['a'], { state: 'not-run', evidence: [], note: 'no container runtime' }));
    expect(cell(cov, 'a')).toMatchObject({
      state: 'not-run',
      reason: 'all 1 test was skipped: no container runtime',
    });
    expect(codes(cov, { ...m.policy, notRun: 'allow' })).toMatchObject({ failures: [], passed: true });
  });

  test('todo tests of a planned issue keep it planned', () => {
    expect(cell(covers(t(['a']), t(['later'], { state: 'todo', evidence: [] })), 'later').state).toBe('planned');
  });
});

describe('unattributed evidence', () => {
  test('is listed and warned about, and covers nothing', () => {
    const run = results('l1', [t(['a'], { evidence: [] })], {
      unattributed: [{ project: 'suite-l1', file: 'suites/l1/t.test.ts', evidence: [evidence('stray')] }],
    });
    const cov = computeCoverage(m, [run], { layers: ['l1'] });
    expect(cell(cov, 'a').state).toBe('vacuous');
    expect(cov.unattributed).toEqual([
      { layer: 'l1', project: 'suite-l1', file: 'suites/l1/t.test.ts', evidence: [evidence('stray')] },
    ]);
    const v = gate(cov, m.policy);
    expect(v.warnings.map((w) => w.message)).toContain(
      "suites/l1/t.test.ts: 1 fault fired outside any test's code path (e.g. failpoint stray: failpoint stray fired); unattributed evidence covers nothing (bind it with bindEvidence())",
    );
  });
});
