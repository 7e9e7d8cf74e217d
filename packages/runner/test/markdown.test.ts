import { computeCoverage, gate, type LayerResults, parseMatrix, type TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { matrixMarkdown } from '../src/reports/markdown.ts';

const ISSUES = 1000;

function bigMatrix() {
  const issues = Array.from(
    { length: ISSUES },
    (_, i) =>
      `  - { id: issue-${i}, title: "A long enough title for issue ${i} with | pipes and \`code\` in it", severity: ${i % 5 === 0 ? 'critical' : 'high'}, tags: [t${i % 7}] }`,
  );
  return parseMatrix(
    [
      'version: 1',
      'system: big',
      'layers:',
      '  l1: { title: L1, projects: [p1] }',
      '  l2: { title: L2, projects: [p2] }',
      '  l3: { title: L3, projects: [p3] }',
      'policy:',
      '  require:',
      '    - { layers: [l1] }',
      '    - { when: { severity: critical }, layers: [l2, l3] }',
      'issues:',
      ...issues,
    ].join('\n'),
  );
}

function results(layer: string, count: number, failEvery: number): LayerResults {
  const tests: TestRecord[] = Array.from({ length: count }, (_, i) => ({
    id: `${layer}::${i}`,
    project: `p${layer.slice(1)}`,
    file: `suites/${layer}/test/f${i % 40}.test.ts`,
    line: i + 1,
    column: 1,
    name: `test ${i}`,
    fullName: `suite > test ${i}`,
    tags: [`issue-${i}`],
    state: i % failEvery === 0 ? 'failed' : 'passed',
    durationMs: 3,
    retryCount: 0,
    flaky: false,
    evidence: [{ kind: 'failpoint', name: `fp${i}`, detail: 'fired', count: 1, at: 0 }],
    errors: [],
  }));
  return {
    schema: 'faultline/results@1',
    layer,
    run: { seed: 7, startedAt: '', endedAt: '', durationMs: 10, capabilities: {}, versions: {} },
    projects: [
      { name: `p${layer.slice(1)}`, dir: `suites/${layer}`, tests: count, durationMs: 10, outcome: 'completed' },
    ],
    tests,
    errors: [],
  };
}

describe('reports/matrix.md', () => {
  test('stays under 1 MiB at 1,000 issues, verdict and what is not covered first (failures before missing)', () => {
    const matrix = bigMatrix();
    // l1: 700 of 1000 issues tested, every 9th failing; l2 and l3: no results at all.
    const runs = [results('l1', 700, 9)];
    const coverage = computeCoverage(matrix, runs);
    const verdict = gate(coverage, matrix.policy);
    const md = matrixMarkdown(matrix, coverage, verdict, runs);
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    const order = ['**Gate: failed', '## Gate', '## Not covered', '## Matrix'].map((h) => md.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const notCovered = md.slice(md.indexOf('## Not covered'), md.indexOf('## Matrix'));
    const firstMissing = notCovered.indexOf('🚫 missing');
    const lastFailed = notCovered.lastIndexOf('❌ failed');
    expect(lastFailed).toBeGreaterThan(0);
    expect(firstMissing).toBeGreaterThan(lastFailed);
    // Lists are capped and say where the rest is.
    expect(md).toMatch(/more \(see matrix\.json\)/);
    // Markdown table cells escape pipes from titles.
    expect(md).not.toMatch(/with \| pipes/);
  });

  test('a huge grid is cut at whole rows with a pointer to the full reports', () => {
    const matrix = bigMatrix();
    const runs = [results('l1', 1000, 1_000_000), results('l2', 1000, 1_000_000), results('l3', 1000, 1_000_000)];
    // 50,000 issues: a grid far beyond the summary limit.
    const copies = Array.from({ length: 50 }, (_, k) => matrix.issues.map((i) => ({ ...i, id: `${i.id}-${k}` })));
    const huge = { ...matrix, issues: copies.flat() };
    const coverage = computeCoverage(huge, runs);
    const md = matrixMarkdown(huge, coverage, gate(coverage, huge.policy), runs);
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    expect(md).toMatch(/… \d+ more issues: see matrix\.html or matrix\.json\./);
  });

  test('failed tests and files that did not load are listed in collapsible details, bounded, hostile text inert', () => {
    const matrix = bigMatrix();
    const runs = [results('l1', 1000, 3)];
    const hostile = `${'x'.repeat(4000)}\n\`\`\`\n</details>\n<script>alert(1)</script> ]]> \u0007 \ud800 end`;
    runs[0]!.tests = runs[0]!.tests.map((t) =>
      t.state === 'failed'
        ? { ...t, errors: [{ message: `expected 1 to be 2 ${hostile}`, diff: '- Expected\n+ Received' }] }
        : t,
    );
    runs[0]!.errors = [
      {
        project: 'p1',
        file: 'suites/l1/test/bad.test.ts',
        line: 3,
        kind: 'load',
        message: 'SyntaxError: Unexpected token',
      },
    ];
    const coverage = computeCoverage(matrix, runs);
    const md = matrixMarkdown(matrix, coverage, gate(coverage, matrix.policy), runs);
    expect(Buffer.byteLength(md)).toBeLessThan(1024 * 1024);
    const failures = md.slice(md.indexOf('## Failures'), md.indexOf('## Not covered'));
    expect(md.indexOf('## Failures')).toBeGreaterThan(md.indexOf('## Gate'));
    expect(failures).toContain(
      '<details><summary>❌ issue-0 × l1: suites/l1/test/f0.test.ts:1 suite &gt; test 0</summary>',
    );
    expect(failures).toContain('expected 1 to be 2 xxx');
    expect(failures).toContain('- Expected\n+ Received');
    expect(failures).toContain('replay: `faultline run --layer l1 --issue issue-0 --seed 7`');
    expect(failures).toContain('<details><summary>❌ l1: suites/l1/test/bad.test.ts:3 did not load</summary>');
    expect(failures).toContain('SyntaxError: Unexpected token');
    expect(failures).toMatch(/… and \d+ more failed tests \(see matrix\.json\)/);
    // Each excerpt sits in a fence longer than any backtick run in it, so nothing escapes the block.
    expect(failures).toContain('````text\n');
    expect(failures).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(failures.toWellFormed()).toBe(failures);
    // Outside the code blocks, every <details> is closed once: the hostile `</details>` stays inside its block.
    const outside = failures.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, '');
    expect(outside).not.toContain('<script>');
    expect(outside.split('</details>').length).toBe(outside.split('<details>').length);
  });

  test('counts read right: one reason, one test', () => {
    const matrix = parseMatrix(
      'version: 1\nsystem: s\nlayers:\n  l1: { title: L1, projects: [p1] }\npolicy: { require: [{ layers: [l1] }] }\nissues:\n  - { id: issue-0, title: T, severity: low }\n',
    );
    const runs = [results('l1', 1, 1)];
    const coverage = computeCoverage(matrix, runs);
    const md = matrixMarkdown(matrix, coverage, gate(coverage, matrix.policy), runs);
    expect(md).toContain('**Gate: failed ❌ (1 reason)**');
    expect(md).toContain('| l1 | L1 | 1 test, 1 failed |');
    expect(md).not.toMatch(/\b1 (tests|reasons)\b/);
  });
});
