import { describe, expect, test } from 'vitest';
import { type Coverage, computeCoverage, gate, parseMatrix } from '../src/index.ts';
import type { TestAttempt, TestRecord } from '../src/results.ts';
import { matrix, results, test as t } from './factories.ts';

const m = matrix({
  issues: [
    { id: 'a', title: 'A', severity: 'low', layers: ['l1'] },
    { id: 'b', title: 'B', severity: 'low', layers: ['l1'] },
  ],
});

function cell(coverage: Coverage, issue: string, layer = 'l1') {
  const found = coverage.cells.find((c) => c.issue === issue && c.layer === layer);
  if (!found) throw new Error(`no cell ${issue} × ${layer}`);
  return found;
}

const seeds = [101, 202, 303, 404, 505, 606, 707, 808, 909, 1010];

/** A test merged from attempts: `failing` are the attempt numbers (1-based) that failed. */
function repeated(tags: string[], failing: number[], over: Partial<TestRecord> = {}): TestRecord {
  const attempts: TestAttempt[] = seeds.map((seed, i) => ({
    attempt: i + 1,
    seed,
    state: failing.includes(i + 1) ? 'failed' : 'passed',
    durationMs: 3,
    evidence: 1,
    errors: failing.includes(i + 1) ? [{ message: 'boom' }] : [],
  }));
  const state = failing.length === 0 ? 'passed' : failing.length === seeds.length ? 'failed' : 'flaky';
  return t(tags, { state, flaky: state === 'flaky', attempts, ...over });
}

const repeatRun = { repeat: { count: seeds.length, seeds } };
const run = (...tests: TestRecord[]) => {
  const r = results('l1', tests);
  return computeCoverage(m, [{ ...r, run: { ...r.run, ...repeatRun } }], { layers: ['l1'] });
};

describe('run --repeat: a cell across seeds', () => {
  test('passed in some attempts and failed in others: flaky, with the pass rate, failing seeds and replay commands', () => {
    const cov = run(repeated(['a'], [3, 8, 9]), repeated(['b'], []));
    const a = cell(cov, 'a');
    expect(a.state).toBe('flaky');
    expect(a.attempts).toEqual({
      passed: 7,
      total: 10,
      failingSeeds: [303, 808, 909],
      replay: [
        'faultline run --layer l1 --issue a --seed 303',
        'faultline run --layer l1 --issue a --seed 808',
        'faultline run --layer l1 --issue a --seed 909',
      ],
    });
    expect(a.reason).toBe(
      'passed 7/10 attempts; failed with seeds 303, 808, 909 (replay: faultline run --layer l1 --issue a --seed 303)',
    );
    const verdict = gate(cov, m.policy);
    expect(verdict.failures.map((f) => f.code)).toEqual(['flaky']);
    expect(gate(cov, { ...m.policy, flaky: 'warn' }).passed).toBe(true);
    expect(cell(cov, 'b')).toMatchObject({ state: 'covered', attempts: { passed: 10, total: 10, failingSeeds: [] } });
  });

  test('a cell of two tests fails an attempt when either fails in it; all attempts failed is failed', () => {
    const cov = run(repeated(['a'], [1, 2, 3, 4, 5]), repeated(['a'], [6, 7, 8, 9, 10]));
    expect(cell(cov, 'a')).toMatchObject({ state: 'failed', attempts: { passed: 0, total: 10 } });
    expect(cell(cov, 'a').reason).toMatch(/^failed in all 10 attempts/);
  });
});

describe('quarantine', () => {
  const quarantined = (until: string) =>
    matrix({
      issues: [
        { id: 'a', title: 'A', severity: 'low', layers: ['l1'], quarantine: { until, reason: 'tracked in #42' } },
        { id: 'b', title: 'B', severity: 'low', layers: ['l1'] },
      ],
    });
  const now = new Date('2026-12-01T12:00:00Z');

  test('a quarantined failing cell keeps its state, is marked, and only warns until its date', () => {
    const q = quarantined('2027-01-31');
    const cov = computeCoverage(q, [results('l1', [t(['a'], { state: 'failed' }), t(['b'])])], { now, layers: ['l1'] });
    expect(cell(cov, 'a')).toMatchObject({
      state: 'failed',
      quarantine: { until: '2027-01-31', reason: 'tracked in #42', expired: false },
    });
    const verdict = gate(cov, q.policy);
    expect(verdict.passed).toBe(true);
    expect(verdict.warnings).toContainEqual(
      expect.objectContaining({
        code: 'quarantined',
        message: expect.stringMatching(
          /^a × l1 failed: 1 of 1 test failed: \S+:\d+ .+ \(quarantined until 2027-01-31: tracked in #42\)$/,
        ),
      }),
    );
  });

  test('an expired quarantine fails the gate', () => {
    const q = quarantined('2026-11-30');
    const cov = computeCoverage(q, [results('l1', [t(['a'], { state: 'failed' }), t(['b'])])], { now, layers: ['l1'] });
    expect(cell(cov, 'a').quarantine?.expired).toBe(true);
    const verdict = gate(cov, q.policy);
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toContainEqual(
      expect.objectContaining({
        code: 'quarantine-expired',
        message: 'a × l1: quarantine expired on 2026-11-30 (tracked in #42): fix the cell or extend `quarantine.until`',
      }),
    );
  });

  test('the date is the last day of quarantine; it is checked in the YAML', () => {
    const q = quarantined('2026-12-01');
    const cov = computeCoverage(q, [results('l1', [t(['a'], { state: 'failed' }), t(['b'])])], { now, layers: ['l1'] });
    expect(cell(cov, 'a').quarantine?.expired).toBe(false);
    const yaml = (until: string) =>
      `version: 1\nsystem: s\nlayers:\n  l1: { title: T, projects: [p] }\nissues:\n  - { id: a, title: A, severity: low, layers: [l1], quarantine: { until: ${until}, reason: why } }\n`;
    expect(parseMatrix(yaml('2027-01-31')).issues[0]?.quarantine).toEqual({ until: '2027-01-31', reason: 'why' });
    expect(() => parseMatrix(yaml('2027-02-31'))).toThrow(/quarantine\.until: .*YYYY-MM-DD/);
  });
});

describe('a layer with no results file', () => {
  test('is partial and never passes, not even under notRun: allow', () => {
    const allow = { ...m.policy, notRun: 'allow' as const };
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['b'])])]);
    expect(cell(cov, 'a', 'l2').state).toBe('not-required');
    const m2 = matrix({ issues: [{ id: 'a', title: 'A', severity: 'low', layers: ['l1', 'l2'] }] });
    const cov2 = computeCoverage(m2, [results('l1', [t(['a'])])]);
    expect(cell(cov2, 'a', 'l2')).toMatchObject({ state: 'not-run', reason: 'layer l2 has no results (did not run)' });
    const verdict = gate(cov2, { ...m2.policy, notRun: 'allow' });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures.map((f) => f.code)).toContain('partial');
    expect(gate(cov, allow).passed).toBe(false);
  });
});
