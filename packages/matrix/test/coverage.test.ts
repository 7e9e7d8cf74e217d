import { describe, expect, test } from 'vitest';
import { type Coverage, computeCoverage } from '../src/index.ts';
import { evidence, matrix, project, results, test as t } from './factories.ts';

// Two layers; "a" needs l1, "b" needs l1 and l2, "later" (planned) needs l2.
const m = matrix({
  issues: [
    { id: 'a', title: 'A', severity: 'low', layers: ['l1'] },
    { id: 'b', title: 'B', severity: 'high', layers: ['l1', 'l2'] },
    { id: 'later', title: 'Later', severity: 'low', status: 'planned', layers: ['l2'] },
  ],
});

function cell(coverage: Coverage, issue: string, layer: string) {
  const found = coverage.cells.find((c) => c.issue === issue && c.layer === layer);
  if (!found) throw new Error(`no cell ${issue} × ${layer}`);
  return found;
}

describe('computeCoverage cell states', () => {
  test('one cell per issue × layer, in matrix order, with counts', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['b'])]), results('l2', [t(['b'])])]);
    expect(cov.layers).toEqual(['l1', 'l2']);
    expect(cov.cells.map((c) => `${c.issue}×${c.layer}:${c.state}`)).toEqual([
      'a×l1:covered',
      'a×l2:not-required',
      'b×l1:covered',
      'b×l2:covered',
      'later×l1:not-required',
      'later×l2:planned',
    ]);
    expect(cov.counts).toEqual({
      covered: 3,
      failed: 0,
      flaky: 0,
      vacuous: 0,
      skipped: 0,
      'not-run': 0,
      missing: 0,
      planned: 1,
      'not-required': 2,
    });
  });

  test('covered: a mapped test passed and recorded evidence', () => {
    const test1 = t(['a'], { evidence: [evidence('disk-full'), evidence('eio')] });
    const cov = computeCoverage(m, [results('l1', [test1])]);
    const c = cell(cov, 'a', 'l1');
    expect(c).toMatchObject({ state: 'covered', required: true, evidence: test1.evidence });
    expect(c.reason).toBeUndefined();
    expect(c.tests).toEqual([
      {
        id: test1.id,
        name: test1.name,
        fullName: test1.fullName,
        file: test1.file,
        line: test1.line,
        state: 'passed',
        durationMs: 5,
        evidence: 2,
        flaky: false,
      },
    ]);
  });

  test("a cell's evidence is capped at 50 records", () => {
    const many = Array.from({ length: 30 }, (_, i) => evidence(`fp${i}`));
    const cov = computeCoverage(m, [results('l1', [t(['a'], { evidence: many }), t(['a'], { evidence: many })])]);
    expect(cell(cov, 'a', 'l1').evidence).toHaveLength(50);
  });

  test('vacuous: passed without evidence; listed in vacuousTests', () => {
    const quiet = t(['a', 'b'], { evidence: [] });
    const cov = computeCoverage(m, [results('l1', [quiet])]);
    expect(cell(cov, 'a', 'l1')).toMatchObject({
      state: 'vacuous',
      reason: '1 passing test recorded no fault evidence: the fault never fired',
    });
    expect(cov.vacuousTests).toEqual([
      { layer: 'l1', test: `${quiet.file}:${quiet.line} ${quiet.fullName}`, issues: ['a', 'b'] },
    ]);
  });

  test('"did not act" evidence covers nothing: the cell is vacuous and the reason names the primitive and why', () => {
    const idle = {
      ...evidence('NOFILE'),
      kind: 'rlimit',
      detail: 'rlimit NOFILE=256 did not act: peak 12 of 256 fds, no EMFILE',
      acted: false as const,
    };
    const quiet = t(['a'], { evidence: [idle] });
    const cov = computeCoverage(m, [results('l1', [quiet])]);
    expect(cell(cov, 'a', 'l1')).toMatchObject({
      state: 'vacuous',
      reason:
        '1 passing test recorded no fault evidence: the fault never fired (rlimit NOFILE: rlimit NOFILE=256 did not act: peak 12 of 256 fds, no EMFILE)',
      evidence: [idle],
    });
    expect(cov.vacuousTests.map((v) => v.issues)).toEqual([['a']]);
  });

  test('a vacuous test beside one with evidence: the cell is covered, the test still listed', () => {
    const quiet = t(['a'], { evidence: [] });
    const cov = computeCoverage(m, [results('l1', [quiet, t(['a'])])]);
    expect(cell(cov, 'a', 'l1').state).toBe('covered');
    expect(cov.vacuousTests.map((v) => v.test)).toEqual([`${quiet.file}:${quiet.line} ${quiet.fullName}`]);
  });

  test('skipped and failed tests are not vacuous tests', () => {
    const cov = computeCoverage(m, [
      results('l1', [t(['a'], { state: 'skipped', evidence: [] }), t(['b'], { state: 'failed', evidence: [] })]),
    ]);
    expect(cov.vacuousTests).toEqual([]);
  });

  test('failed: any mapped test failed, even beside covering ones', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['a'], { state: 'failed' })])]);
    expect(cell(cov, 'a', 'l1')).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^1 of 2 tests failed: suites\/suite-l1\/t.test.ts:\d+ suite > test \d+$/),
    });
  });

  test('missing: required, the layer ran, no test is tagged', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a'])])]);
    expect(cell(cov, 'b', 'l1')).toMatchObject({
      state: 'missing',
      required: true,
      tests: [],
      reason: 'no test is tagged with this issue in this layer',
    });
  });

  test('planned: required, status planned, no test yet (or only skipped ones)', () => {
    const ran = computeCoverage(m, [results('l2', [t(['b'])])]);
    expect(cell(ran, 'later', 'l2')).toMatchObject({ state: 'planned', reason: 'planned: no test yet' });
    const skipped = computeCoverage(m, [results('l2', [t(['b']), t(['later'], { state: 'skipped', evidence: [] })])]);
    expect(cell(skipped, 'later', 'l2')).toMatchObject({ state: 'planned', reason: 'all 1 test was skipped' });
  });

  test('planned stays planned when its layer did not run', () => {
    expect(cell(computeCoverage(m, []), 'later', 'l2').state).toBe('planned');
    const notRun = results('l2', [], { run: { ...results('l2', []).run, notRun: 'no container runtime' } });
    expect(cell(computeCoverage(m, [notRun]), 'later', 'l2').state).toBe('planned');
  });

  test('a planned issue whose test now passes is covered', () => {
    const cov = computeCoverage(m, [results('l2', [t(['b']), t(['later'])])]);
    expect(cell(cov, 'later', 'l2').state).toBe('covered');
  });

  test('not-run: no results for the layer', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['b'])])]);
    expect(cell(cov, 'b', 'l2')).toMatchObject({
      state: 'not-run',
      required: true,
      reason: 'layer l2 has no results (did not run)',
    });
    expect(cell(cov, 'a', 'l2')).toMatchObject({ state: 'not-required', required: false });
  });

  test('not-run: the layer results say why it did not run', () => {
    const base = results('l2', []);
    const l2 = { ...base, run: { ...base.run, notRun: 'backend containers: no container runtime' } };
    const cov = computeCoverage(m, [l2]);
    expect(cell(cov, 'b', 'l2')).toMatchObject({
      state: 'not-run',
      reason: 'backend containers: no container runtime',
    });
    expect(cell(cov, 'a', 'l2').state).toBe('not-required');
    // A layer that did not run has no empty projects to complain about.
    expect(cov.emptyProjects).toEqual([]);
  });

  test('not-run: every mapped test was skipped, with the notes as reason', () => {
    const cov = computeCoverage(m, [
      results('l1', [
        t(['a'], { state: 'not-run', evidence: [], note: 'no container runtime' }),
        t(['a'], { state: 'not-run', evidence: [], note: 'no container runtime' }),
        t(['a'], { state: 'not-run', evidence: [], note: 'needs root' }),
        t(['b'], { state: 'skipped', evidence: [] }),
      ]),
    ]);
    expect(cell(cov, 'a', 'l1')).toMatchObject({
      state: 'not-run',
      reason: 'all 3 tests were skipped: no container runtime; needs root',
    });
    // A skip without a reason is a skip in the source, not a layer that could not run.
    expect(cell(cov, 'b', 'l1')).toMatchObject({ state: 'skipped', reason: 'no test ran: 1 skipped' });
  });

  test('a skipped test beside a passing one does not make the cell not-run', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a'], { state: 'skipped', evidence: [] }), t(['a'])])]);
    expect(cell(cov, 'a', 'l1').state).toBe('covered');
  });

  test('not-required: without tests, and with tests (then the tests decide the state)', () => {
    const extra = t(['a']);
    const cov = computeCoverage(m, [results('l1', [t(['a'])]), results('l2', [t(['b']), extra])]);
    expect(cell(cov, 'later', 'l1')).toMatchObject({ state: 'not-required', required: false, tests: [] });
    expect(cell(cov, 'a', 'l2')).toMatchObject({ state: 'covered', required: false });
    expect(cell(cov, 'a', 'l2').tests.map((x) => x.id)).toEqual([extra.id]);
  });
});

describe('computeCoverage cross-checks', () => {
  test('a tag no issue declares is an unknown tag, per layer, with the tests using it', () => {
    const typo = t(['sig-trem']);
    const also = t(['a', 'sig-trem']);
    const cov = computeCoverage(m, [results('l1', [typo, also])]);
    expect(cov.unknownTags).toEqual([
      {
        tag: 'sig-trem',
        layer: 'l1',
        file: typo.file,
        line: typo.line,
        tests: [`${typo.file}:${typo.line} ${typo.fullName}`, `${also.file}:${also.line} ${also.fullName}`],
      },
    ]);
    // The known tag on the same test still counts.
    expect(cell(cov, 'a', 'l1').state).toBe('covered');
  });

  test('a layer project that ran no tests is an empty project', () => {
    const l1 = results('l1', [t(['a']), t(['b'])]);
    l1.projects.push(project('suite-l1-extra', 0));
    const cov = computeCoverage(m, [l1]);
    expect(cov.emptyProjects).toEqual([{ layer: 'l1', project: 'suite-l1-extra' }]);
  });

  test('a project marked not-run is not an empty project', () => {
    const l1 = results('l1', [t(['a']), t(['b'])]);
    l1.projects.push(project('suite-l1-extra', 0, { outcome: 'not-run', reason: 'filtered out' }));
    expect(computeCoverage(m, [l1]).emptyProjects).toEqual([]);
  });

  test('sharding: a project empty in one shard but not in another is fine; empty in all is reported once', () => {
    const shard1 = results('l1', [], { shard: { index: 1, count: 2 } });
    const shard2 = results('l1', [t(['a']), t(['b'])], { shard: { index: 2, count: 2 } });
    shard1.projects.push(project('suite-l1-extra', 0));
    shard2.projects.push(project('suite-l1-extra', 0));
    const cov = computeCoverage(m, [shard1, shard2]);
    expect(cov.emptyProjects).toEqual([{ layer: 'l1', project: 'suite-l1-extra' }]);
    expect(cell(cov, 'a', 'l1').state).toBe('covered');
  });

  test('tests from all shards of a layer land in the same cells', () => {
    const cov = computeCoverage(m, [
      results('l1', [t(['a'])], { shard: { index: 1, count: 2 } }),
      results('l1', [t(['a'], { state: 'failed' })], { shard: { index: 2, count: 2 } }),
    ]);
    expect(cell(cov, 'a', 'l1')).toMatchObject({
      state: 'failed',
      reason: expect.stringMatching(/^1 of 2 tests failed: suites\/suite-l1\/t.test.ts:\d+ suite > test \d+$/),
    });
  });

  test('file errors are collected with their layer', () => {
    const error = { project: 'suite-l1', file: 'suites/suite-l1/x.test.ts', kind: 'load' as const, message: 'boom' };
    const cov = computeCoverage(m, [results('l1', [t(['a'])], { errors: [error] })]);
    expect(cov.fileErrors).toEqual([{ ...error, layer: 'l1' }]);
  });

  test('the layers option restricts the columns and what is cross-checked', () => {
    const l2 = results('l2', [t(['b']), t(['nobody'])]);
    l2.projects.push(project('suite-l2-extra', 0));
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['b'])]), l2], { layers: ['l1'] });
    expect(cov.layers).toEqual(['l1']);
    expect(cov.cells.map((c) => `${c.issue}×${c.layer}`)).toEqual(['a×l1', 'b×l1', 'later×l1']);
    expect(cov.unknownTags).toEqual([]);
    expect(cov.emptyProjects).toEqual([]);
  });

  test('results for a layer the matrix does not have are ignored', () => {
    const cov = computeCoverage(m, [results('l1', [t(['a']), t(['b'])]), results('l9', [t(['zzz'])])]);
    expect(cov.layers).toEqual(['l1', 'l2']);
    expect(cov.unknownTags).toEqual([]);
  });
});
