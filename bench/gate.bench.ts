// Figure: `faultline gate` on a synthetic 1,000-issue × 3-layer matrix with 10,000 results
// (budget: under 1 s), beside the cost of merely parsing those results.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LayerResults, loadMatrix, type TestRecord } from '@faultline/matrix';
import { gateAndReport, readResultsDir, writeResults } from '@faultline/runner';
import { type BenchFigure, figure, median } from './figure.ts';

const ISSUES = 1000;
const TESTS = 10_000;

function synthetic(dir: string): string {
  const issues = Array.from(
    { length: ISSUES },
    (_, i) =>
      `  - { id: issue-${i}, title: "Synthetic issue ${i}", severity: ${i % 7 === 0 ? 'critical' : 'high'}, tags: [${i % 3 === 0 ? 'network' : 'storage'}] }`,
  );
  const file = join(dir, 'matrix.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'system: synthetic',
      'layers:',
      '  l1: { title: L1, projects: [p1] }',
      '  l2: { title: L2, projects: [p2] }',
      '  l3: { title: L3, projects: [p3] }',
      'policy:',
      '  require:',
      '    - { layers: [l1] }',
      '    - { when: { severity: critical }, layers: [l2] }',
      '    - { when: { tags: [network] }, layers: [l3] }',
      'issues:',
      ...issues,
      '',
    ].join('\n'),
  );
  const perLayer = [5000, 2500, 2500];
  ['l1', 'l2', 'l3'].forEach((layer, li) => {
    const tests: TestRecord[] = Array.from({ length: perLayer[li]! }, (_, t) => ({
      id: `p${li + 1}::t${t}`,
      project: `p${li + 1}`,
      file: `suites/${layer}/test/f${t % 50}.test.ts`,
      line: t + 1,
      column: 1,
      name: `test ${t}`,
      fullName: `suite > test ${t}`,
      tags: [`issue-${(t * 7) % ISSUES}`],
      state: t % 97 === 0 ? 'failed' : 'passed',
      durationMs: 12,
      retryCount: 0,
      flaky: false,
      evidence:
        t % 13 === 0 ? [] : [{ kind: 'failpoint', name: `fp-${t}`, detail: 'fired return(1)', count: 3, at: 0 }],
      errors:
        t % 97 === 0 ? [{ message: 'expected 1 to be 2', stack: 'Error: expected 1 to be 2\n    at x.ts:1:1' }] : [],
    }));
    const results: LayerResults = {
      schema: 'faultline/results@1',
      layer,
      run: { seed: 1, startedAt: '', endedAt: '', durationMs: 1, capabilities: {}, versions: {} },
      projects: [
        { name: `p${li + 1}`, dir: `suites/${layer}`, tests: tests.length, durationMs: 1, outcome: 'completed' },
      ],
      tests,
      errors: [],
    };
    writeResults(join(dir, 'results'), results);
  });
  return file;
}

export default async function gateBench(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-gate-bench-'));
  const matrixFile = synthetic(dir);
  const parse: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t = performance.now();
    readResultsDir(join(dir, 'results'));
    parse.push(performance.now() - t);
    t = performance.now();
    const loaded = loadMatrix(matrixFile);
    gateAndReport(loaded, readResultsDir(join(dir, 'results')), { outDir: join(dir, 'reports') });
    full.push(performance.now() - t);
  }
  const subject = median(full);
  return [
    figure(
      `gate: ${ISSUES} issues × 3 layers, ${TESTS} results`,
      'ms',
      { label: 'read results', value: median(parse) },
      { label: 'load matrix + gate + all reports', value: subject },
      { budget: '< 1000 ms', ok: subject < 1000 },
    ),
  ];
}
