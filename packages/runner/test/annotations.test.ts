import type { Coverage, GateReason, Verdict } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { githubAnnotations } from '../src/index.ts';

const coverage: Coverage = {
  cells: [
    {
      issue: 'a',
      layer: 'l1',
      required: true,
      state: 'failed',
      reason: '1 of 1 tests failed',
      evidence: [],
      tests: [
        {
          id: 't',
          name: 't',
          fullName: 't',
          file: 'suites/l1/test/a.test.ts',
          line: 42,
          state: 'failed',
          durationMs: 1,
          evidence: 0,
          flaky: false,
        },
      ],
    },
  ],
  layers: ['l1'],
  unknownTags: [],
  emptyProjects: [],
  fileErrors: [],
  vacuousTests: [],
  gaps: [],
  unattributed: [],
  counts: {
    covered: 0,
    failed: 1,
    flaky: 0,
    vacuous: 0,
    skipped: 0,
    'not-run': 0,
    missing: 0,
    planned: 0,
    'not-required': 0,
  },
};

const missing = (i: number): GateReason => ({
  code: 'missing',
  issue: `m${i}`,
  layer: 'l1',
  message: `m${i} × l1 is required but has no test`,
});

describe('GitHub annotations', () => {
  test('failures first, at most 10 per type, then a pointer to the rest; escaped', () => {
    const verdict: Verdict = {
      passed: false,
      failures: [
        ...Array.from({ length: 14 }, (_, i) => missing(i)),
        { code: 'failed', issue: 'a', layer: 'l1', message: 'a × l1 failed: x,y\nz%' },
      ],
      warnings: [{ code: 'vacuous', issue: 'm1', layer: 'l1', message: 'warn' }],
    };
    const lines = githubAnnotations(verdict, { coverage, matrixFile: 'matrix.yaml', issueLine: () => 7 });
    const errors = lines.filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(10);
    expect(errors[0]).toBe(
      '::error file=suites/l1/test/a.test.ts,line=42,title=faultline failed::a × l1 failed: x,y%0Az%25',
    );
    expect(errors[1]).toBe(
      '::error file=matrix.yaml,line=7,title=faultline missing::m0 × l1 is required but has no test',
    );
    expect(lines).toContain(
      '::notice title=faultline::5 more gate errors not annotated: see the job summary (reports/matrix.md)',
    );
    expect(lines.filter((l) => l.startsWith('::warning'))).toHaveLength(1);
  });

  test("a reason about a test is annotated at that test's file and line, with its error excerpt cut to a sane length", () => {
    const detail = `suites/l1/test/b.test.ts:9 b\nexpected 1 to be 2\n- Expected\n+ Received\n${'y'.repeat(5000)}`;
    const verdict: Verdict = {
      passed: false,
      failures: [
        {
          code: 'file-error',
          layer: 'l1',
          message: 'suites/l1/test/c.test.ts:3: load: unknown tag',
          file: 'suites/l1/test/c.test.ts',
          line: 3,
        },
        {
          code: 'failed',
          issue: 'a',
          layer: 'l1',
          message: 'a × l1 failed',
          file: 'suites/l1/test/b.test.ts',
          line: 9,
          detail,
        },
      ],
      warnings: [
        {
          code: 'vacuous-test',
          issue: 'a',
          layer: 'l1',
          message: '1 of 2 tests of a × l1 recorded no fault',
          file: 'suites/l1/test/d.test.ts',
          line: 5,
        },
      ],
    };
    const lines = githubAnnotations(verdict, { coverage, matrixFile: 'matrix.yaml', issueLine: () => 7 });
    expect(lines[0]).toMatch(
      /^::error file=suites\/l1\/test\/b.test.ts,line=9,title=faultline failed::a × l1 failed%0A%0Asuites\/l1\/test\/b.test.ts:9 b%0Aexpected 1 to be 2%0A- Expected%0A\+ Received%0Ay+… \(\d+ more characters\)$/,
    );
    expect(lines[0]!.length).toBeLessThan(2500);
    expect(lines[1]).toBe(
      '::error file=suites/l1/test/c.test.ts,line=3,title=faultline file-error::suites/l1/test/c.test.ts:3: load: unknown tag',
    );
    expect(lines[2]).toBe(
      '::warning file=suites/l1/test/d.test.ts,line=5,title=faultline vacuous-test::1 of 2 tests of a × l1 recorded no fault',
    );
  });
});
