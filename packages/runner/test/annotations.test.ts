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
});
