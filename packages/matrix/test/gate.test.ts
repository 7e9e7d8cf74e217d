import { describe, expect, test } from 'vitest';
import { computeCoverage, type GateReasonCode, gate, type LayerResults, type Policy } from '../src/index.ts';
import { matrix, project, results, test as t } from './factories.ts';

// "a" needs l1; "net" needs l1 and l2 (by policy tag); "later" is planned in l2.
const m = matrix({
  policy: { require: [{ layers: ['l1'] }, { when: { tags: ['network'] }, layers: ['l2'] }] },
  issues: [
    { id: 'a', title: 'A', severity: 'low' },
    { id: 'net', title: 'Net', severity: 'high', tags: ['network'] },
    { id: 'later', title: 'Later', severity: 'low', status: 'planned', layers: ['l2'] },
  ],
});

/** Results where every required cell is covered; tweak them per test. */
function green(): LayerResults[] {
  return [results('l1', [t(['a']), t(['net']), t(['later'])]), results('l2', [t(['net'])])];
}

function verdict(rs: LayerResults[], policy: Partial<Policy> = {}, layers?: string[]) {
  const coverage = computeCoverage(m, rs, layers ? { layers } : {});
  return gate(coverage, { ...m.policy, ...policy });
}

const codes = (reasons: Array<{ code: GateReasonCode }>) => reasons.map((r) => r.code);

describe('gate', () => {
  test('passes when every required cell is covered; planned only warns by default', () => {
    const v = verdict(green());
    expect(v.passed).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v.warnings).toEqual([
      { code: 'planned', issue: 'later', layer: 'l2', message: 'later × l2 is planned, not covered' },
    ]);
  });

  test('planned: fail makes the planned cell a failure', () => {
    const v = verdict(green(), { planned: 'fail' });
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      { code: 'planned', issue: 'later', layer: 'l2', message: 'later × l2 is planned, not covered' },
    ]);
  });

  test('missing fails', () => {
    const v = verdict([results('l1', [t(['a']), t(['later'])]), results('l2', [t(['net'])])]);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      {
        code: 'missing',
        issue: 'net',
        layer: 'l1',
        message: 'net × l1 is required but has no test: no test is tagged with this issue in this layer',
      },
    ]);
  });

  test('failed fails', () => {
    const rs = green();
    rs[1] = results('l2', [t(['net'], { state: 'failed', errors: [{ message: 'timeout' }] })]);
    const v = verdict(rs);
    const failed = rs[1]!.tests[0]!;
    const place = `${failed.file}:${failed.line} ${failed.fullName}`;
    expect(v.failures).toEqual([
      {
        code: 'failed',
        issue: 'net',
        layer: 'l2',
        message: `net × l2 failed: 1 of 1 test failed: ${place}: timeout`,
        file: failed.file,
        line: failed.line,
        detail: `${place}\ntimeout`,
      },
    ]);
  });

  test('a failed test in a non-required cell still fails the gate', () => {
    const rs = green();
    rs[1] = results('l2', [t(['net']), t(['a'], { state: 'failed' })]);
    const v = verdict(rs);
    expect(v.passed).toBe(false);
    expect(v.failures).toMatchObject([{ code: 'failed', issue: 'a', layer: 'l2' }]);
  });

  test('vacuous fails under vacuous: fail and warns under vacuous: warn', () => {
    const rs = green();
    rs[0] = results('l1', [t(['a'], { evidence: [] }), t(['net']), t(['later'])]);
    const message = 'a × l1 is vacuous: 1 passing test recorded no fault evidence: the fault never fired';
    const strict = verdict(rs);
    expect(strict.passed).toBe(false);
    expect(strict.failures).toEqual([{ code: 'vacuous', issue: 'a', layer: 'l1', message }]);
    const lenient = verdict(rs, { vacuous: 'warn' });
    expect(lenient.passed).toBe(true);
    expect(lenient.warnings).toContainEqual({ code: 'vacuous', issue: 'a', layer: 'l1', message });
  });

  test('a vacuous cell that is not required only warns', () => {
    const rs = green();
    rs[1] = results('l2', [t(['net']), t(['a'], { evidence: [] })]);
    const v = verdict(rs);
    expect(v.passed).toBe(true);
    expect(codes(v.warnings)).toEqual(['vacuous', 'planned']);
  });

  test('a layer with no results is partial: it never passes, not even under notRun: allow', () => {
    const rs = [green()[0]!];
    const v = verdict(rs);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      {
        code: 'not-run',
        issue: 'net',
        layer: 'l2',
        message: 'net × l2 did not run: layer l2 has no results (did not run)',
      },
      {
        code: 'partial',
        layer: 'l2',
        message:
          'layer l2 has no results (did not run): run it (faultline run --layer l2) or gate only the layers that ran (--layer)',
      },
    ]);
    const allowed = verdict(rs, { notRun: 'allow' });
    expect(allowed.passed).toBe(false);
    expect(codes(allowed.failures)).toEqual(['partial']);
    expect(codes(allowed.warnings)).toEqual(['not-run', 'planned']);
    expect(verdict(rs, { notRun: 'allow' }, ['l1']).passed).toBe(true);
  });

  test('not-run with the reason the layer gives', () => {
    const base = results('l2', []);
    const v = verdict([green()[0]!, { ...base, run: { ...base.run, notRun: 'no container runtime' } }]);
    expect(v.failures).toEqual([
      { code: 'not-run', issue: 'net', layer: 'l2', message: 'net × l2 did not run: no container runtime' },
    ]);
  });

  test('not-run when every test of a required cell was skipped; a skipped non-required cell is ignored', () => {
    const rs = green();
    rs[1] = results('l2', [
      t(['net'], { state: 'not-run', evidence: [], note: 'no container runtime' }),
      t(['a'], { state: 'skipped', evidence: [] }),
    ]);
    const v = verdict(rs);
    expect(v.failures).toEqual([
      {
        code: 'not-run',
        issue: 'net',
        layer: 'l2',
        message: 'net × l2 did not run: all 1 test was skipped: no container runtime',
      },
    ]);
  });

  test('an unknown tag fails the gate', () => {
    const rs = green();
    const typo = t(['nett']);
    rs[0] = results('l1', [t(['a']), t(['net']), typo]);
    const v = verdict(rs);
    expect(v.passed).toBe(false);
    expect(v.failures).toEqual([
      {
        code: 'unknown-tag',
        layer: 'l1',
        message: `tag "nett" is declared by no issue in the matrix (did you mean \`net\`?) (used by 1 test in l1, e.g. ${typo.file}:${typo.line} ${typo.fullName})`,
        file: typo.file,
        line: typo.line,
      },
    ]);
  });

  test('a layer project that ran no tests fails the gate', () => {
    const rs = green();
    rs[1]!.projects.push(project('suite-l2-chaos', 0));
    const v = verdict(rs);
    expect(v.failures).toEqual([
      {
        code: 'empty-project',
        layer: 'l2',
        message: 'project "suite-l2-chaos" of layer l2 ran no tests: check its vitest include patterns',
      },
    ]);
  });

  test('sharding: a project with tests in only one shard passes', () => {
    const [l1, l2] = green();
    const shard1 = { ...l2!, shard: { index: 1, count: 2 }, tests: [], projects: [project('suite-l2', 0)] };
    const shard2 = { ...l2!, shard: { index: 2, count: 2 } };
    expect(verdict([l1!, shard1, shard2]).passed).toBe(true);
  });

  test('file errors fail the gate', () => {
    const rs = green();
    rs[0]!.errors.push({
      project: 'suite-l1',
      file: 'suites/suite-l1/hang.test.ts',
      kind: 'timeout',
      message: 'killed at the layer timeout (5m)',
    });
    const v = verdict(rs);
    expect(v.failures).toEqual([
      {
        code: 'file-error',
        layer: 'l1',
        message: 'suites/suite-l1/hang.test.ts: timeout: killed at the layer timeout (5m)',
        file: 'suites/suite-l1/hang.test.ts',
      },
    ]);
  });

  test('the layers option gates only those columns', () => {
    const onlyL1 = [green()[0]!];
    expect(verdict(onlyL1).passed).toBe(false);
    const v = verdict(onlyL1, {}, ['l1']);
    expect(v).toEqual({ passed: true, failures: [], warnings: [] });
  });

  test('reasons come in a stable order: cells in matrix order, then tags, projects, file errors', () => {
    const l1 = results('l1', [t(['zzz']), t(['net'], { state: 'failed' })], {
      errors: [{ project: 'suite-l1', file: 'f.test.ts', kind: 'crash', message: 'SIGSEGV' }],
    });
    l1.projects.push(project('suite-l1-b', 0));
    const v = verdict([l1]);
    expect(v.failures.map((f) => `${f.code}:${f.issue ?? '-'}:${f.layer}`)).toEqual([
      'missing:a:l1',
      'failed:net:l1',
      'not-run:net:l2',
      'unknown-tag:-:l1',
      'empty-project:-:l1',
      'file-error:-:l1',
      'partial:-:l2',
    ]);
    // "later" is required in l1 by the catch-all rule and in l2 by its own layers.
    expect(v.warnings.map((w) => `${w.code}:${w.issue}:${w.layer}`)).toEqual(['planned:later:l1', 'planned:later:l2']);
  });
});
