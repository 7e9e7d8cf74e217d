import { describe, expect, test } from 'vitest';
import {
  computeCoverage,
  gate,
  MatrixError,
  type Problem,
  parseMatrix,
  VERIFY_SCHEMA,
  type VerifyResults,
  verificationSummary,
} from '../src/index.ts';
import { matrix, results, test as t } from './factories.ts';

function problemsOf(run: () => unknown): readonly Problem[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).problems;
  }
  throw new Error('expected a MatrixError');
}

const head = [
  'version: 1',
  'system: s',
  'layers:',
  '  l1: { title: Mocks, projects: [./t] }',
  '  l2: { title: Crash, projects: [./c] }',
];

describe('breaks in matrix.yaml', () => {
  test('an issue declares breaks; the policy may require them verified', () => {
    const m = parseMatrix(
      [
        ...head,
        'policy:',
        '  verify: { when: { severity: critical } }',
        'issues:',
        '  - id: a',
        '    title: A',
        '    severity: critical',
        '    layers: [l1, l2]',
        '    breaks: [{ name: skipChunkVerify, layers: [l1] }, { name: noFsync, layers: [l1, l2] }]',
      ].join('\n'),
    );
    expect(m.issues[0]?.breaks).toEqual([
      { name: 'skipChunkVerify', layers: ['l1'] },
      { name: 'noFsync', layers: ['l1', 'l2'] },
    ]);
    expect(m.policy.verify).toEqual({ when: { severity: 'critical' } });
  });

  test('unknown layers (with did-you-mean), duplicate names and cells not required are errors at their place', () => {
    const text = [
      ...head,
      'issues:',
      '  - id: a',
      '    title: A',
      '    severity: low',
      '    layers: [l1]',
      '    breaks:',
      '      - { name: skipVerify, layers: [l11] }',
      '      - { name: skipVerify, layers: [l1] }',
      '',
    ].join('\n');
    expect(problemsOf(() => parseMatrix(text, 'm.yaml')).map((p) => `${p.line}:${p.col}: ${p.message}`)).toEqual([
      '12:38: break "skipVerify": unknown layer "l11" (did you mean `l1`?) (known layers: l1, l2)',
      '13:17: duplicate break "skipVerify" in issue "a" (first at breaks[0]): list its layers once',
    ]);
    const notRequired = [
      ...head,
      'issues:',
      '  - { id: a, title: A, severity: low, layers: [l1], breaks: [{ name: x, layers: [l2] }] }',
    ].join('\n');
    expect(problemsOf(() => parseMatrix(notRequired, 'm.yaml')).map((p) => `${p.line}: ${p.message}`)).toEqual([
      '7: break "x": issue "a" is not required in layer "l2" (required: l1): a break is verified on a required cell',
    ]);
  });

  test('a bad break name and a break without layers are schema errors', () => {
    const text = [
      ...head,
      'issues:',
      '  - { id: a, title: A, severity: low, layers: [l1], breaks: [{ name: "no way", layers: [] }] }',
    ].join('\n');
    const messages = problemsOf(() => parseMatrix(text, 'm.yaml')).map((p) => p.message);
    expect(messages).toEqual([
      expect.stringContaining('issues[0].breaks[0].name: a break name is a letter then'),
      expect.stringContaining('issues[0].breaks[0].layers: a break names the layers'),
    ]);
  });

  test('the layer id "verify" is reserved for verify.json', () => {
    const text = [
      'version: 1',
      'system: s',
      'layers:',
      '  verify: { title: V, projects: [./t] }',
      'issues:',
      '  - { id: a, title: A, severity: low, layers: [verify] }',
    ].join('\n');
    expect(problemsOf(() => parseMatrix(text, 'm.yaml'))[0]?.message).toContain('layer id "verify" is reserved');
  });
});

function verifyResults(outcomes: Array<[issue: string, layer: string, name: string, outcome: string]>): VerifyResults {
  return {
    schema: VERIFY_SCHEMA,
    breaks: outcomes.map(([issue, layer, name, outcome]) => ({
      issue,
      layer,
      name,
      outcome: outcome as 'caught',
      state: outcome === 'caught' ? 'failed' : 'covered',
      passed: outcome === 'missed' ? ['t.test.ts:3 suite > still green'] : [],
      seed: 1,
      durationMs: 10,
      verifiedAt: '2026-01-01T00:00:00.000Z',
    })),
    controls: [],
  };
}

describe('verification on cells and in the gate', () => {
  const m = matrix({
    policy: { verify: { when: { severity: 'critical' } } },
    issues: [
      {
        id: 'crit',
        title: 'C',
        severity: 'critical',
        layers: ['l1'],
        breaks: [
          { name: 'b1', layers: ['l1'] },
          { name: 'b2', layers: ['l1'] },
        ],
      },
      { id: 'crit-bare', title: 'D', severity: 'critical', layers: ['l1'] },
      { id: 'low', title: 'L', severity: 'low', layers: ['l1'], breaks: [{ name: 'b3', layers: ['l1'] }] },
    ],
  });
  const runs = [results('l1', [t(['crit']), t(['crit-bare']), t(['low'])])];
  const cell = (cov: ReturnType<typeof computeCoverage>, issue: string) => cov.cells.find((c) => c.issue === issue);

  test('every declared break caught: the cell says so and the gate passes it', () => {
    const verify = verifyResults([
      ['crit', 'l1', 'b1', 'caught'],
      ['crit', 'l1', 'b2', 'caught'],
      ['low', 'l1', 'b3', 'caught'],
    ]);
    const cov = computeCoverage(m, runs, { verify, layers: ['l1'] });
    const v = cell(cov, 'crit')?.verify;
    expect(v).toMatchObject({ declared: 2, caught: 2, required: true });
    expect(verificationSummary(v!)).toBe('verified: 2 of 2 breaks caught');
    const verdict = gate(cov, m.policy);
    // Only the selected cell that declares no break fails.
    expect(verdict.failures.map((f) => [f.code, f.issue])).toEqual([['unverified', 'crit-bare']]);
    expect(verdict.failures[0]?.message).toContain('declares no break for this layer');
  });

  test('a missed or never-verified break fails a selected cell, naming the tests that still passed', () => {
    const verify = verifyResults([['crit', 'l1', 'b1', 'missed']]);
    const cov = computeCoverage(m, runs, { verify, layers: ['l1'] });
    const verdict = gate(cov, m.policy);
    const reason = verdict.failures.find((f) => f.issue === 'crit');
    expect(reason?.code).toBe('unverified');
    expect(reason?.message).toBe(
      'crit × l1: verified: 0 of 2 breaks caught: b1 left the cell green (still passed: t.test.ts:3 suite > still green); b2 never verified',
    );
    const never = gate(computeCoverage(m, runs, { layers: ['l1'] }), m.policy).failures.find((f) => f.issue === 'crit');
    expect(never?.message).toBe('crit × l1: not verified: 2 breaks declared: b1 never verified; b2 never verified');
  });

  test('outside the policy a missed break only warns, and an unverified one says nothing', () => {
    const missed = gate(
      computeCoverage(m, runs, { layers: ['l1'], verify: verifyResults([['low', 'l1', 'b3', 'missed']]) }),
      m.policy,
    );
    expect(missed.warnings.map((w) => [w.code, w.issue])).toEqual([['unverified', 'low']]);
    expect(missed.failures.some((f) => f.issue === 'low')).toBe(false);
    const never = gate(computeCoverage(m, runs, { layers: ['l1'] }), m.policy);
    expect(never.warnings.some((w) => w.issue === 'low')).toBe(false);
  });

  test('without breaks or a verify policy a cell carries no verification', () => {
    const plain = matrix({ issues: [{ id: 'x', title: 'X', severity: 'critical', layers: ['l1'] }] });
    const cov = computeCoverage(plain, [results('l1', [t(['x'])])], { layers: ['l1'] });
    expect(cov.cells[0]?.verify).toBeUndefined();
    expect(gate(cov, plain.policy).passed).toBe(true);
  });
});
