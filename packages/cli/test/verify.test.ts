// `faultline verify` on a one-package project whose code honours FAULTLINE_BREAK: one break the test
// catches, one it does not (a real finding: the test still passes without the protection).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Cell, VerifyResults } from '@faultline/matrix';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './run-cli.ts';

const repoModules = join(import.meta.dirname, '..', '..', '..', 'node_modules');
const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'faultline-verify-'));
  roots.push(root);
  for (const [path, content] of Object.entries({ 'package.json': '{"name":"app","type":"module"}', ...files })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  symlinkSync(repoModules, join(root, 'node_modules'), 'dir');
  return root;
}

const faultline = runCli;

const matrix = (policy: string) =>
  [
    'version: 1',
    'system: app',
    'layers:',
    '  l1: { title: Unit faults, projects: [./test/l1], timeout: 2m }',
    `policy: { require: [{ layers: [l1] }]${policy} }`,
    'issues:',
    '  - id: retry',
    '    title: Retries a failing call',
    '    severity: critical',
    '    breaks: [{ name: noRetry, layers: [l1] }]',
    '  - id: cache',
    '    title: Serves from cache',
    '    severity: high',
    '    breaks: [{ name: noCache, layers: [l1] }]',
    '  - { id: plain, title: No breaks, severity: low }',
    '',
  ].join('\n');

const config = [
  "import { defineLayerProject } from '@faultline/vitest';",
  "import { defineConfig } from 'vitest/config';",
  "export default defineConfig(defineLayerProject({ layer: 'l1', root: import.meta.dirname, include: ['*.test.ts'] }));",
  '',
].join('\n');

// The system under test: each protection reads its break switch from FAULTLINE_BREAK.
const tests = [
  "import { recordFault } from '@faultline/vitest';",
  "import { expect, test } from 'vitest';",
  "const broken = (name: string) => (process.env.FAULTLINE_BREAK ?? '').split(',').includes(name);",
  'function withRetry(fn: () => number): number {',
  "  const attempts = broken('noRetry') ? 1 : 3;",
  '  for (let i = 1; ; i++) {',
  '    try { return fn(); } catch (error) { if (i >= attempts) throw error; }',
  '  }',
  '}',
  "test('retries a call that fails once', { tags: ['retry'] }, () => {",
  '  let calls = 0;',
  "  const flaky = () => { calls++; if (calls === 1) { recordFault({ kind: 'demo', name: 'flaky', detail: 'call 1 threw EIO' }); throw new Error('EIO'); } return 42; };",
  '  expect(withRetry(flaky)).toBe(42);',
  '});',
  "test('serves from cache (checks nothing that noCache changes)', { tags: ['cache'] }, () => {",
  "  recordFault({ kind: 'demo', name: 'origin-down', detail: 'origin refused' });",
  '  expect(1 + 1).toBe(2);',
  '});',
  "test('plain', { tags: ['plain'] }, () => {",
  "  recordFault({ kind: 'demo', name: 'x', detail: 'fired' });",
  '});',
  '',
].join('\n');

describe('faultline verify', () => {
  test('runs each declared break: a caught one passes, a missed one fails the run naming the tests still green; gate and reports show it', {
    timeout: 240_000,
  }, async () => {
    const root = project({
      'matrix.yaml': matrix(', verify: { when: { severity: critical } }'),
      'test/l1/vitest.config.ts': config,
      'test/l1/app.test.ts': tests,
    });
    const m = join(root, 'matrix.yaml');
    const results = join(root, 'results');
    const verify = await faultline(['verify', '--matrix', m, '--results', results, '--seed', '5']);
    expect(verify.code, verify.out + verify.err).toBe(1);
    expect(verify.out).toContain('control retry × l1 without a break: covered');
    expect(verify.out).toMatch(/✓ retry × l1 FAULTLINE_BREAK=noRetry: caught \(failed\)/);
    expect(verify.out).toMatch(/✗ cache × l1 FAULTLINE_BREAK=noCache: NOT caught \(covered\)/);
    expect(verify.out).toContain(
      'still passed: test/l1/app.test.ts:15 serves from cache (checks nothing that noCache changes)',
    );
    expect(verify.out).toContain('verify: 1 of 2 breaks caught');
    const file = join(results, 'verify.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as VerifyResults;
    expect(saved.breaks.map((b) => [b.issue, b.name, b.outcome, b.state])).toEqual([
      ['retry', 'noRetry', 'caught', 'failed'],
      ['cache', 'noCache', 'missed', 'covered'],
    ]);

    // The gate reads verify.json beside the results: the critical cell is verified, the missed break warns.
    const run = await faultline([
      'run',
      '--matrix',
      m,
      '--results',
      results,
      '--seed',
      '5',
      '--gate',
      '--out',
      join(root, 'reports'),
    ]);
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toContain('! cache × l1: verified: 0 of 1 break caught: noCache left the cell green');
    const report = JSON.parse(readFileSync(join(root, 'reports', 'matrix.json'), 'utf8')) as { cells: Cell[] };
    expect(report.cells.find((c) => c.issue === 'retry')?.verify).toMatchObject({
      declared: 1,
      caught: 1,
      required: true,
    });
    const md = readFileSync(join(root, 'reports', 'matrix.md'), 'utf8');
    expect(md).toContain('| retry | l1 | 🛡️ verified: 1 of 1 break caught | noRetry caught |');
    expect(md).toContain('✅ 1 🛡️1/1');
    // The HTML grid renders from the report it embeds: the cell carries its verification there too.
    const html = readFileSync(join(root, 'reports', 'matrix.html'), 'utf8');
    const embedded = /<script type="application\/json" id="faultline-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}';
    const data = JSON.parse(embedded) as { report: { cells: Cell[] } };
    expect(data.report.cells.find((c) => c.issue === 'cache')?.verify?.breaks).toEqual([
      expect.objectContaining({
        name: 'noCache',
        outcome: 'missed',
        passed: [expect.stringContaining('serves from cache')],
      }),
    ]);

    // verify.json beside the layers' results is not a results file: merge and list read past it.
    const merged = await faultline(['merge', '--matrix', m, '--from', results, '--results', join(root, 'merged')]);
    expect([merged.code, merged.err]).toEqual([0, '']);
    expect(merged.out).toContain('l1: 3 tests from 1 file');

    // --issue re-verifies one issue (controls from the latest results) and keeps what verify.json held.
    const one = await faultline(['verify', '--matrix', m, '--results', results, '--issue', 'retry', '--seed', '6']);
    expect(one.code, one.out + one.err).toBe(0);
    expect(one.out).toContain('control retry × l1 without a break: covered (latest results)');
    const again = JSON.parse(readFileSync(file, 'utf8')) as VerifyResults;
    expect(again.breaks.map((b) => [b.name, b.seed])).toEqual([
      ['noCache', 5],
      ['noRetry', 6],
    ]);

    // One verify job per layer (the workflow's): merge combines their verify.json files with the results.
    for (const [job, name] of [
      ['a', 'noCache'],
      ['b', 'noRetry'],
    ] as const) {
      mkdirSync(join(root, 'jobs', job), { recursive: true });
      const only = { ...again, breaks: again.breaks.filter((b) => b.name === name) };
      writeFileSync(join(root, 'jobs', job, 'verify.json'), JSON.stringify(only));
    }
    cpSync(join(results, 'l1.json'), join(root, 'jobs', 'a', 'l1.json'));
    const mergeJobs = () =>
      faultline(['merge', '--matrix', m, '--from', join(root, 'jobs'), '--results', join(root, 'combined')]);
    const combined = await mergeJobs();
    expect([combined.code, combined.err]).toEqual([0, '']);
    expect(combined.out).toContain('verify: 2 breaks from 2 files');
    const both = JSON.parse(readFileSync(join(root, 'combined', 'verify.json'), 'utf8')) as VerifyResults;
    expect(both.breaks.map((b) => b.name).sort()).toEqual(['noCache', 'noRetry']);
    // Verify files of another matrix are refused, as results files are.
    writeFileSync(join(root, 'jobs', 'b', 'verify.json'), JSON.stringify({ ...again, matrixDigest: 'sha256:other' }));
    const foreign = await mergeJobs();
    expect(foreign.code).toBe(2);
    expect(foreign.err).toContain('verify files of different matrices');

    // Under policy.verify a selected cell never verified fails the gate.
    rmSync(file);
    const gate = await faultline(['gate', '--matrix', m, '--results', results, '--out', join(root, 'reports')]);
    expect(gate.code).toBe(1);
    expect(gate.out).toContain('✗ retry × l1: not verified: 1 break declared: noRetry never verified');
    const junit = readFileSync(join(root, 'reports', 'junit', 'matrix.xml'), 'utf8');
    expect(junit).toContain('<failure message="unverified: not verified: 1 break declared: noRetry never verified"');
  });

  test('bad input: an unknown issue, an issue without breaks, a torn verify.json: exit 2 in one line', async () => {
    const root = project({
      'matrix.yaml': matrix(''),
      'test/l1/vitest.config.ts': config,
      'test/l1/app.test.ts': tests,
    });
    const m = join(root, 'matrix.yaml');
    const unknown = await faultline(['verify', '--matrix', m, '--issue', 'nope']);
    expect([unknown.code, unknown.err.split('\n')[0]]).toEqual([
      2,
      'faultline verify: unknown issue "nope" (see `faultline list`)',
    ]);
    const typo = await faultline(['verify', '--matrix', m, '--break', 'noRetyr']);
    expect([typo.code, typo.err.split('\n')[0]]).toEqual([
      2,
      'faultline verify: no issue declares the break "noRetyr" (did you mean `noRetry`?) (declared: noRetry, noCache)',
    ]);
    const none = await faultline(['verify', '--matrix', m, '--issue', 'plain']);
    expect(none.code).toBe(2);
    expect(none.err).toBe(
      `faultline verify: ${m}: no break declared for issue plain: add \`breaks: [{ name: <switch>, layers: [l1] }]\` to an issue (the system under test reads the switch from FAULTLINE_BREAK)\n`,
    );
    const results = join(root, 'results');
    mkdirSync(results);
    writeFileSync(join(results, 'verify.json'), '{"schema": "faultline/verify@1", "breaks": [');
    const torn = await faultline(['gate', '--matrix', m, '--results', results]);
    expect(torn.code).toBe(2);
    expect(torn.err).toMatch(new RegExp(`^${join(results, 'verify.json')}:1:1: invalid JSON`));
    expect(existsSync(join(results, 'l1.json'))).toBe(false);
  });
});
