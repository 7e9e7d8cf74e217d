// Results of real tools, recorded here: `go test -json` (examples/go-store, working and with
// GOSTORE_BROKEN=1), libtest JSON (`cargo test -- -Z unstable-options --format json` on
// examples/rust-kv, working and with KV_BROKEN=1), pytest --junitxml (xunit1, with record_property).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bracketIssues, checkClaims, ingestResults, parseEvidenceFile, readers } from '../src/ingest/index.ts';

const fixtures = join(import.meta.dirname, 'fixtures', 'ingest');
const sample = (name: string) => readFileSync(join(fixtures, name), 'utf8');
const examples = join(import.meta.dirname, '..', '..', '..', 'examples');

describe('go test -json', () => {
  test('every test and subtest with its state, the failure line, the declaration line of a passing test', () => {
    const tests = ingestResults('go-test-json', sample('go-test-broken.jsonl'), join(examples, 'go-store'));
    const by = new Map(tests.map((t) => [t.name, t]));
    expect([...by.keys()].sort()).toEqual([
      'TestSave',
      'TestSave/[atomic-save]_ENOSPC_mid-write_keeps_the_last_good_state',
      'TestSave/[atomic-save]_a_complete_save_replaces_the_state',
      'TestSaveLeavesNoTemporaryFiles',
    ]);
    const failed = by.get('TestSave/[atomic-save]_ENOSPC_mid-write_keeps_the_last_good_state');
    expect(failed).toMatchObject({ state: 'failed', suite: 'example.com/gostore', file: 'store_test.go', line: 47 });
    expect(failed?.errors[0]?.message).toContain('state after a failed save is');
    expect(by.get('TestSave/[atomic-save]_a_complete_save_replaces_the_state')?.state).toBe('passed');
    expect(by.get('TestSave')?.errors[0]?.message).toBe(
      'subtest TestSave/[atomic-save]_ENOSPC_mid-write_keeps_the_last_good_state failed',
    );
    expect(by.get('TestSaveLeavesNoTemporaryFiles')).toMatchObject({
      state: 'passed',
      file: 'store_test.go',
      line: 65,
    });
  });

  test('a test still running when the command was killed is failed, never dropped', () => {
    const torn = sample('go-test-pass.jsonl')
      .split('\n')
      .filter((l) => !l.includes('"Action":"pass"'))
      .join('\n');
    const tests = readers['go-test-json'].read(`${torn}\n{"Action":"out`);
    expect(tests.length).toBeGreaterThan(0);
    expect(tests.every((t) => t.state === 'failed')).toBe(true);
    expect(tests[0]?.errors[0]?.message).toMatch(/failed|did not finish/);
  });
});

describe('libtest JSON', () => {
  test('tests of every binary; a panic gives the failure and its file:line; passing tests are located', () => {
    const pass = ingestResults('libtest-json', sample('libtest-pass.jsonl'), join(examples, 'rust-kv'));
    expect(pass.map((t) => `${t.name} ${t.state} ${t.file}:${t.line}`).sort()).toEqual([
      'failpoints::tests::parses_the_fail_rs_grammar passed src/failpoints.rs:179',
      'failpoints::tests::rejects_bad_actions passed src/failpoints.rs:195',
      'kill_during_write passed tests/crash.rs:61',
      'writer_child passed tests/crash.rs:19',
    ]);
    const broken = ingestResults('libtest-json', sample('libtest-broken.jsonl'), join(examples, 'rust-kv'));
    const kill = broken.find((t) => t.name === 'kill_during_write');
    expect(kill).toMatchObject({ state: 'failed', file: 'tests/crash.rs', line: 86 });
    expect(kill?.errors[0]?.message).toBe('wave 1: writer 0: /tmp/rust-kv-1/w0/counter is torn: ""');
  });
});

describe('JUnit XML', () => {
  test('pytest: file and 1-based line, failures with their text, skips with the reason, issue properties', () => {
    const tests = readers.junit.read(sample('pytest-junit.xml'));
    const by = new Map(tests.map((t) => [t.name, t]));
    expect(by.get('test_evicts_at_watermark')).toMatchObject({
      suite: 'tests.test_cache',
      file: 'tests/test_cache.py',
      line: 4,
      state: 'passed',
      issues: ['disk-full'],
    });
    const failed = by.get('test_torn_read_is_refetched_kv_torn_write');
    expect(failed?.state).toBe('failed');
    expect(failed?.errors[0]?.message).toContain("AssertionError: assert {'a': 1} == {'a': 2}");
    expect(failed?.errors[0]?.stack).toContain('tests/test_cache.py:11: AssertionError');
    expect(by.get('test_partition')).toMatchObject({ state: 'skipped', note: 'no container runtime' });
    expect(by.get('test_param[1]')?.state).toBe('passed');
  });

  test('Surefire, gotestsum and nextest shapes: a bare <testsuite>, nested suites, <error>, entities', () => {
    const surefire = `<?xml version="1.0"?><testsuite name="kv.CrashIT" tests="2"><testcase name="torn &amp; write" classname="kv.CrashIT" time="1.5"><error message="boom" type="java.io.IOException">stack</error></testcase><testcase name="ok" classname="kv.CrashIT" time="0"/></testsuite>`;
    expect(readers.junit.read(surefire)).toMatchObject([
      {
        name: 'torn & write',
        suite: 'kv.CrashIT',
        state: 'failed',
        durationMs: 1500,
        errors: [{ message: 'boom', stack: 'stack' }],
      },
      { name: 'ok', state: 'passed' },
    ]);
    const nested = `<testsuites><testsuite name="a"><testsuite name="b"><testcase name="t" classname="b" file="src/b.rs" line="12"><properties><property name="faultline.issue" value="x, y"/></properties></testcase></testsuite></testsuite></testsuites>`;
    expect(readers.junit.read(nested)).toMatchObject([{ name: 't', file: 'src/b.rs', line: 12, issues: ['x', 'y'] }]);
    expect(() => readers.junit.read('<html/>')).toThrow(/not JUnit XML/);
    expect(readers.junit.read('<testsuites/>')).toEqual([]);
  });
});

describe('issue claims', () => {
  test('ids in brackets not glued to a word: Go subtests and named tests claim, pytest parameters do not', () => {
    expect(bracketIssues('TestSave/[atomic-save]_ENOSPC')).toEqual(['atomic-save']);
    expect(bracketIssues('[kv-torn-write, kv-monotonic] kill during write [kv-torn-write]')).toEqual([
      'kv-torn-write',
      'kv-monotonic',
    ]);
    expect(bracketIssues('test_param[1-2]')).toEqual([]);
    expect(bracketIssues('test_x[Upper]')).toEqual([]);
  });

  test('an unknown id is an error naming the test, with the nearest issue id', () => {
    const { tags, unknown } = checkClaims(
      ['atomic-save', 'atomic-sav'],
      new Set(['atomic-save', 'disk-full']),
      'test "T" at a_test.go:3',
    );
    expect(tags).toEqual(['atomic-save']);
    expect(unknown).toEqual([
      'unknown issue "atomic-sav" claimed by test "T" at a_test.go:3 (did you mean `atomic-save`?): a test claims an issue with its id in brackets in its name, a JUnit property faultline.issue, or "issues" in an evidence line (issues: atomic-save, disk-full)',
    ]);
  });
});

describe('the evidence file', () => {
  test('one JSON line per fault: the evidence model, defaults, acted: false, claims; torn or foreign lines skipped', () => {
    const lines = parseEvidenceFile(
      [
        '{"test":"kill_during_write","issues":["kv-torn-write"],"kind":"kill","name":"writer-0","detail":"pid 7 got SIGKILL","attributes":{"wave":1,"bad":{"x":1}}}',
        '{"test":"t2","fault":"latency","name":"p","detail":{"ms":800},"count":3,"acted":false}',
        '{"test":"t3","issues":["a"]}',
        'not json',
        '{"kind":"kill","name":"no test"}',
        '{"test":"t4","kind":"ki',
      ].join('\n'),
      'evidence-file',
    );
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      test: 'kill_during_write',
      issues: ['kv-torn-write'],
      evidence: {
        kind: 'kill',
        name: 'writer-0',
        detail: 'pid 7 got SIGKILL',
        count: 1,
        attributes: { wave: 1 },
        source: 'evidence-file',
      },
    });
    expect(lines[1]?.evidence).toMatchObject({
      kind: 'latency',
      detail: '{"ms":800}',
      count: 3,
      acted: false,
      attributes: { ms: 800 },
    });
    expect(lines[2]).toEqual({ test: 't3', issues: ['a'] });
  });
});
