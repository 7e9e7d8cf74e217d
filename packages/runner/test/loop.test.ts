import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import type { MatrixReport } from '../src/index.ts';
import { demo, faultline, readJson } from './helpers.ts';

const m = (name: string) => join(demo, name);

describe('run → gate on a real vitest workspace', () => {
  test('all required cells covered: gate passes, planned issue allowed, reports written', async () => {
    const { code, dir, out } = await faultline(['run', '--matrix', m('matrix.yaml'), '--seed', '11', '--gate']);
    expect(out).toContain('seed 11');
    expect(code).toBe(0);
    const l1 = readJson<LayerResults>(join(dir, 'results', 'l1.json'));
    expect(l1.run.seed).toBe(11);
    const retry = l1.tests.find((t) => t.tags.includes('retry'))!;
    expect(retry.state).toBe('passed');
    expect(retry.line).toBe(18);
    expect(retry.evidence).toEqual([expect.objectContaining({ kind: 'demo', name: 'flaky-call', count: 2 })]);
    const report = readJson<MatrixReport>(join(dir, 'reports', 'matrix.json'));
    expect(report.verdict.passed).toBe(true);
    expect(report.cells.find((c) => c.issue === 'future' && c.layer === 'l1')?.state).toBe('planned');
    expect(report.cells.find((c) => c.issue === 'crash' && c.layer === 'l2')?.state).toBe('covered');
  });

  test('a passing test whose fault never fired makes its cell vacuous and fails the gate', async () => {
    const { code, out } = await faultline(['run', '--matrix', m('matrix.yaml'), '--layer', 'l1', '--gate'], {
      DEMO_MODE: 'vacuous',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/retry × l1 is vacuous: 1 passing test recorded no fault evidence/);
  });

  test('a failing test fails its cell and the gate', async () => {
    const { code, out, err } = await faultline(['run', '--matrix', m('matrix.yaml'), '--layer', 'l1', '--gate'], {
      DEMO_MODE: 'failed',
    });
    expect(code).toBe(1);
    // The gate's output names the test and place, then its first error lines indented under the reason.
    expect(out).toMatch(
      /retry × l1 failed: 1 of 1 test failed: \S*retry\.test\.ts:\d+ .+\n {6}\S*retry\.test\.ts:\d+ .+\n {6}\S/,
    );
    expect(err).toMatch(/l1: 1 failed test:\n {2}✗ \[retry\] \S*retry\.test\.ts:\d+ /);
    expect(err).toMatch(/ {6}replay: faultline run --layer l1 --issue retry --seed \d+/);
  });

  test('gating all layers after running only l1 reports l2 as not run', async () => {
    const run = await faultline(['run', '--matrix', m('matrix.yaml'), '--layer', 'l1']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('2 tests, 0 failed');
    const results = join(run.dir, 'results');
    const gated = await faultline(['gate', '--matrix', m('matrix.yaml'), '--results', results]);
    expect(gated.code).toBe(1);
    expect(gated.out).toContain('crash × l2 did not run: layer l2 has no results (did not run)');
    const l1only = await faultline(['gate', '--matrix', m('matrix.yaml'), '--layer', 'l1', '--results', results]);
    expect(l1only.code).toBe(0);
  });

  test('a tag no issue declares fails at collection (strictTags) and the gate reports the file', async () => {
    const { code, out, err } = await faultline(['run', '--matrix', m('matrix-typo.yaml'), '--gate']);
    expect(code).toBe(1);
    expect(out).toMatch(
      /typo\.test\.ts:3: load: unknown tag "retyr" at \S*typo\.test\.ts:3 \(did you mean `retry`\?\)/,
    );
    expect(err).toMatch(/FAIL (\[\d+\/\d+\] )?demo-typo \S*typo\.test\.ts \(did not load\)/);
  });

  test('a layer project that runs no tests fails the gate', async () => {
    const { code, out } = await faultline(['run', '--matrix', m('matrix-empty.yaml'), '--gate']);
    expect(code).toBe(1);
    expect(out).toContain('project "demo-empty" of layer l1 ran no tests');
  });
});

describe('evidence attribution', () => {
  test('concurrent tests in one file keep their evidence apart (aroundEach + AsyncLocalStorage)', async () => {
    const { code, dir } = await faultline(['run', '--matrix', m('matrix-concurrent.yaml')]);
    expect(code).toBe(0);
    const l1 = readJson<LayerResults>(join(dir, 'results', 'l1.json'));
    for (const name of ['first', 'second']) {
      const t = l1.tests.find((x) => x.name === name)!;
      expect(t.evidence).toEqual([expect.objectContaining({ name, count: 3 })]);
    }
  });
});

describe('a vitest worker that dies', () => {
  test('is reported as a crash with the tail of its stderr (240 kB of it), and the next project still runs', async () => {
    const { code, dir, out } = await faultline(['run', '--matrix', m('matrix-crash.yaml'), '--gate']);
    expect(code).toBe(1);
    const l1 = readJson<LayerResults>(join(dir, 'results', 'l1.json'));
    expect(l1.projects.map((p) => [p.name, p.outcome])).toEqual([
      ['demo-crash', 'crashed'],
      ['demo-l1', 'completed'],
    ]);
    const crash = l1.errors.find((e) => e.kind === 'crash')!;
    expect(crash.message).toMatch(
      /^vitest worker exited \(code 7\) before finishing\n[\s\S]*fatal: demo-crash config exploded/,
    );
    expect(crash.message.length).toBeLessThan(5000);
    expect(out).toContain('suites/demo-crash: crash: vitest worker exited (code 7)');
  });
});
