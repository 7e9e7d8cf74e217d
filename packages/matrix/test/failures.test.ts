import { describe, expect, test } from 'vitest';
import {
  computeCoverage,
  errorExcerpt,
  gate,
  type LayerResults,
  matrixSchema,
  type Policy,
  plural,
} from '../src/index.ts';
import { matrix, results, test as t } from './factories.ts';

const m = matrix({
  policy: { require: [{ layers: ['l1'] }] },
  issues: [
    { id: 'write-atomic', title: 'Atomic writes', severity: 'high' },
    { id: 'redis-timeout', title: 'Redis timeout', severity: 'low' },
  ],
});

function verdict(rs: LayerResults[], policy: Partial<Policy> = {}) {
  const coverage = computeCoverage(m, rs, { layers: ['l1'] });
  return { coverage, verdict: gate(coverage, { ...m.policy, ...policy }) };
}

const diff = '- Expected\n+ Received\n\n- 2\n+ 1';

describe('failure messages', () => {
  test('errorExcerpt: first lines of the message and the diff, colour codes gone, bounded', () => {
    expect(errorExcerpt([{ message: '\u001b[31mexpected 1 to be 2\u001b[39m', diff }])).toBe(
      `expected 1 to be 2\n${diff}`,
    );
    const long = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const excerpt = errorExcerpt([{ message: long }, { message: 'second' }], 3)!;
    expect(excerpt).toBe('line 0\nline 1\nline 2\n… (27 more lines)\n(and 1 more error)');
    expect(errorExcerpt([{ message: 'x'.repeat(5000) }])!.length).toBeLessThan(1100);
    expect(errorExcerpt([])).toBeUndefined();
  });

  test('a failed cell names its failed test, place and first error line; the gate carries the diff', () => {
    const failing = t(['write-atomic'], {
      state: 'failed',
      evidence: [],
      errors: [{ message: 'AssertionError: expected 1 to be 2\n    at foo', diff }],
    });
    const { coverage, verdict: v } = verdict([
      results('l1', [t(['write-atomic']), failing, t(['redis-timeout'])]),
      results('l2', []),
    ]);
    const place = `${failing.file}:${failing.line} ${failing.fullName}`;
    const cell = coverage.cells.find((c) => c.issue === 'write-atomic' && c.layer === 'l1')!;
    expect(cell.reason).toBe(`1 of 2 tests failed: ${place}: AssertionError: expected 1 to be 2`);
    expect(cell.tests[1]!.error).toBe(`AssertionError: expected 1 to be 2\n    at foo\n${diff}`);
    expect(cell.tests[0]!.error).toBeUndefined();
    expect(v.failures[0]).toEqual({
      code: 'failed',
      issue: 'write-atomic',
      layer: 'l1',
      message: `write-atomic × l1 failed: ${cell.reason}`,
      file: failing.file,
      line: failing.line,
      detail: `${place}\n${cell.tests[1]!.error}`,
    });
  });

  test('counts are pluralised: one test, two tests', () => {
    expect([plural(1, 'test'), plural(2, 'test'), plural(1, 'reason'), plural(0, 'test')]).toEqual([
      '1 test',
      '2 tests',
      '1 reason',
      '0 tests',
    ]);
    const skipped = t(['write-atomic'], { state: 'not-run', evidence: [], note: 'no container runtime' });
    const { coverage } = verdict([results('l1', [skipped, t(['redis-timeout'])])]);
    expect(coverage.cells[0]!.reason).toBe('all 1 test was skipped: no container runtime');
  });

  test('a file that failed to load is one line at its place; the whole message is the detail', () => {
    const base = results('l1', [t(['write-atomic']), t(['redis-timeout'])]);
    const message = 'unknown tag "redis-timout" (did you mean `redis-timeout`?)\nmore\nlines';
    const { verdict: v } = verdict([
      { ...base, errors: [{ project: 'suite-l1', file: 'test/a.test.ts', line: 7, kind: 'load', message }] },
    ]);
    expect(v.failures).toEqual([
      {
        code: 'file-error',
        layer: 'l1',
        message: 'test/a.test.ts:7: load: unknown tag "redis-timout" (did you mean `redis-timeout`?)',
        file: 'test/a.test.ts',
        line: 7,
        detail: message,
      },
    ]);
  });

  test('an unknown tag suggests the nearest issue id', () => {
    const typo = t(['redis-timout']);
    const { verdict: v } = verdict([results('l1', [t(['write-atomic']), t(['redis-timeout']), typo])]);
    const reason = v.failures.find((f) => f.code === 'unknown-tag')!;
    expect(reason.message).toBe(
      `tag "redis-timout" is declared by no issue in the matrix (did you mean \`redis-timeout\`?) (used by 1 test in l1, e.g. ${typo.file}:${typo.line} ${typo.fullName})`,
    );
    expect(reason).toMatchObject({ file: typo.file, line: typo.line });
  });
});

describe('per-test evidence: policy.vacuousTests', () => {
  const quiet = t(['write-atomic'], { evidence: [] });
  const rs = () => [results('l1', [t(['write-atomic']), quiet, t(['write-atomic']), t(['redis-timeout'])])];
  const message = `1 of 3 tests of write-atomic × l1 recorded no fault: ${quiet.file}:${quiet.line} ${quiet.fullName}`;
  const reason = {
    code: 'vacuous-test',
    issue: 'write-atomic',
    layer: 'l1',
    message,
    file: quiet.file,
    line: quiet.line,
  };

  test('the default (warn): a quiet test next to covering ones is a warning; the cell stays covered', () => {
    expect(matrixSchema.parse({ ...m, policy: { require: [] } }).policy.vacuousTests).toBe('warn');
    const { coverage, verdict: v } = verdict(rs());
    const cell = coverage.cells[0]!;
    expect(cell.state).toBe('covered');
    expect(cell.tests.map((x) => x.vacuous ?? false)).toEqual([false, true, false]);
    expect(v.passed).toBe(true);
    expect(v.warnings).toEqual([reason]);
  });

  test('fail: the quiet test fails the gate', () => {
    const { verdict: v } = verdict(rs(), { vacuousTests: 'fail' });
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([reason]);
  });

  test('allow: nothing is said', () => {
    const { verdict: v } = verdict(rs(), { vacuousTests: 'allow' });
    expect([v.passed, v.failures, v.warnings]).toEqual([true, [], []]);
  });

  test('a cell that is vacuous as a whole is reported once, as vacuous', () => {
    const { verdict: v } = verdict([results('l1', [quiet, t(['redis-timeout'])])], { vacuous: 'warn' });
    expect(v.warnings.map((w) => w.code)).toEqual(['vacuous']);
  });

  test('the schema takes warn, fail or allow and nothing else', () => {
    for (const vacuousTests of ['warn', 'fail', 'allow']) {
      expect(matrixSchema.safeParse({ ...m, policy: { require: [], vacuousTests } }).success).toBe(true);
    }
    expect(matrixSchema.safeParse({ ...m, policy: { require: [], vacuousTests: 'ignore' } }).success).toBe(false);
  });
});
