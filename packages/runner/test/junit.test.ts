import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeCoverage, gate, type LayerResults, parseMatrix, type TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { layerJUnit, matrixJUnit } from '../src/reports/junit.ts';

const xsd = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'reference', 'junit-github.xsd');

function xmllint(xml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'junit-')), 'report.xml');
  writeFileSync(file, xml);
  // xmllint exits non-zero and names the line when the file is not well-formed or not valid.
  return execFileSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8', stdio: 'pipe' });
}

const matrix = parseMatrix(`
version: 1
system: hostile
layers:
  l1: { title: "L1 ]]> <&>", projects: [p] }
policy: { require: [{ layers: [l1] }] }
issues:
  - { id: a, title: "title with ]]> and \\u0001 control", severity: high }
  - { id: b, title: uncovered, severity: low }
`);

const hostile = `name \u0000\u0001\u0008\u000b\u001f ]]> <tag attr="x"> & \ud800 lone \udfff surrogate \ufffe end`;

function record(overrides: Partial<TestRecord>): TestRecord {
  return {
    id: 'p::t.test.ts::x',
    project: 'p',
    file: 'suites/p/test/t.test.ts',
    line: 12,
    column: 3,
    name: 'x',
    fullName: 'x',
    tags: ['a'],
    state: 'passed',
    durationMs: 5,
    retryCount: 0,
    flaky: false,
    evidence: [{ kind: 'failpoint', name: hostile, detail: hostile, count: 2, at: 0, attributes: { v: hostile } }],
    errors: [],
    ...overrides,
  };
}

const results: LayerResults = {
  schema: 'faultline/results@1',
  layer: 'l1',
  run: { seed: 1, startedAt: '', endedAt: '', durationMs: 1, capabilities: {}, versions: {} },
  projects: [{ name: 'p', dir: 'suites/p', tests: 3, durationMs: 1, outcome: 'completed' }],
  tests: [
    record({ fullName: hostile, name: hostile, output: `${hostile}\n`.repeat(40_000) }),
    record({
      id: 'p::t::y',
      state: 'failed',
      line: 40,
      errors: [{ message: `boom ${hostile}`, stack: `Error: ${hostile}\n    at ]]> (file.ts:1:1)` }],
    }),
    record({ id: 'p::t::z', state: 'skipped', tags: [], evidence: [] }),
  ],
  errors: [{ project: 'p', file: 'suites/p/test/broken.test.ts', kind: 'load', message: `SyntaxError ${hostile}` }],
};

describe('JUnit reports', () => {
  test('hostile names, errors and 1 MB of output still validate against junit-github.xsd', () => {
    expect(results.tests[0]!.output!.length).toBeGreaterThan(1_000_000);
    const xml = layerJUnit(matrix, [results]);
    expect(xmllint(xml)).toBe('');
    expect(xml).toMatch(
      /<testcase classname="a" name="[^"]*" file="suites\/p\/test\/t.test.ts" time="0.005" line="12">/,
    );
    expect(xml).toContain('<property name="evidence.1" value="failpoint');
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
  });

  test('matrix.xml has one testcase per required cell, failures where the gate fails, and validates', () => {
    const coverage = computeCoverage(matrix, [results]);
    const verdict = gate(coverage, matrix.policy);
    const failing = new Set(verdict.failures.map((f) => `${f.issue}/${f.layer}`));
    const xml = matrixJUnit(matrix, coverage, {
      matrixFile: 'matrix.yaml',
      issueLine: (issue) => (issue.id === 'a' ? 7 : 8),
      failing: (cell) => failing.has(`${cell.issue}/${cell.layer}`),
    });
    expect(xmllint(xml)).toBe('');
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toMatch(
      /<testcase classname="matrix.l1" name="b × l1: uncovered" file="matrix.yaml" time="0" line="8">/,
    );
    expect(xml.match(/<failure /g)).toHaveLength(2); // a failed (a test failed), b missing
  });
});

describe('JUnit for the common consumers', () => {
  test('<testsuite> and <testsuites> carry time (dorny shows NaNms without it), and still validate', () => {
    const xml = layerJUnit(matrix, [results]);
    expect(xmllint(xml)).toBe('');
    const root = /<testsuites\b[^>]*>/.exec(xml)![0];
    expect(root).toMatch(/ time="\d+(\.\d+)?"/);
    const suites = xml.match(/<testsuite\b[^>]*>/g)!;
    expect(suites.length).toBeGreaterThan(0);
    for (const suite of suites) expect(suite).toMatch(/ time="\d+(\.\d+)?"/);
    const suiteTimes = suites.map((s) => Number(/ time="([^"]+)"/.exec(s)![1]));
    expect(Number(/ time="([^"]+)"/.exec(root)![1])).toBeCloseTo(
      suiteTimes.reduce((a, b) => a + b, 0),
      6,
    );
  });

  test('matrix.xml groups cells by layer (one classname per layer, not one per issue), with times', () => {
    const coverage = computeCoverage(matrix, [results]);
    const xml = matrixJUnit(matrix, coverage, { matrixFile: 'matrix.yaml', issueLine: () => 7, failing: () => false });
    expect(xmllint(xml)).toBe('');
    const classnames = new Set([...xml.matchAll(/<testcase classname="([^"]*)"/g)].map((m) => m[1]));
    expect([...classnames]).toEqual(['matrix.l1']);
    expect(/<testsuites\b[^>]*>/.exec(xml)![0]).toMatch(/ time="/);
    // Titles may hold ">" (attribute values keep it): match up to the next element instead.
    const suites = xml.match(/<testsuite [^<]*/g)!;
    expect(suites.length).toBe(1);
    for (const suite of suites) expect(suite).toMatch(/ time="\d/);
  });
});

describe('JUnit test states', () => {
  test('flaky and test.fails carry their faultline state; todo and not-run are skipped; all validate', () => {
    const states: LayerResults = {
      ...results,
      tests: [
        record({ id: 'p::s::flaky', fullName: 'flaky one', state: 'flaky', flaky: true, retryCount: 1 }),
        record({ id: 'p::s::fails', fullName: 'known broken', state: 'expected-fail' }),
        record({ id: 'p::s::todo', fullName: 'to do', state: 'todo', evidence: [] }),
        record({
          id: 'p::s::nr',
          fullName: 'no runtime',
          state: 'not-run',
          evidence: [],
          note: 'no container runtime',
        }),
      ],
      errors: [],
    };
    const xml = layerJUnit(matrix, [states]);
    expect(xmllint(xml)).toBe('');
    const testcase = (name: string) => xml.slice(xml.indexOf(`name="${name}"`)).split('</testcase>')[0]!;
    expect(testcase('flaky one')).toContain('<property name="state" value="flaky"/>');
    expect(testcase('known broken')).toContain('<property name="state" value="expected-fail"/>');
    expect(testcase('to do')).toContain('<skipped');
    expect(testcase('no runtime')).toContain('<skipped');
  });
});
