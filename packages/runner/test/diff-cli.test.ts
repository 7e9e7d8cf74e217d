import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MatrixReport } from '@faultline/runner';
import { describe, expect, test } from 'vitest';
import { demo, faultline } from './helpers.ts';

const m = join(demo, 'matrix.yaml');

describe('faultline diff BASE HEAD', () => {
  test('two matrix.json files: Markdown, --json, --fail-on regression; two results directories', async () => {
    const run = await faultline(['run', '--matrix', m, '--layer', 'l1']);
    expect(run.code).toBe(0);
    const results = join(run.dir, 'results');
    const same = await faultline(['diff', results, results, '--matrix', m]);
    expect([same.code, same.out]).toEqual([
      0,
      expect.stringMatching(/^No change: the \d+ cells of .+ are in the same state\.\n$/),
    ]);

    const report = await faultline(['report', '--matrix', m, '--layer', 'l1', '--results', results]);
    const base = join(report.dir, 'reports', 'matrix.json');
    const before = JSON.parse(readFileSync(base, 'utf8')) as MatrixReport;
    const covered = before.cells.find((c) => c.state === 'covered')!;
    const after: MatrixReport = {
      ...before,
      cells: before.cells.map((c) => (c === covered ? { ...c, state: 'failed', reason: '1 of 1 test failed' } : c)),
    };
    const head = join(mkdtempSync(join(tmpdir(), 'faultline-diff-')), 'matrix.json');
    writeFileSync(head, JSON.stringify(after));

    const md = await faultline(['diff', base, head]);
    expect(md.code).toBe(0);
    expect(md.out).toContain(
      `## Regressions (1)\n\n- **${covered.issue} × ${covered.layer}**: covered → failed: 1 of 1 test failed`,
    );
    const failing = await faultline(['diff', base, head, '--fail-on', 'regression']);
    expect(failing.code).toBe(1);
    const json = await faultline(['diff', base, head, '--json']);
    expect(JSON.parse(json.out).regressions).toHaveLength(1);
    expect((await faultline(['diff', head, base, '--fail-on', 'regression'])).code).toBe(0);
  });

  test('bad input is one line naming the file, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-diff-'));
    const torn = join(dir, 'torn.json');
    writeFileSync(torn, '{"schema": "faultline/matrix-rep');
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const bad = await faultline(['diff', torn, torn]);
    expect([bad.code, bad.err]).toEqual([
      2,
      expect.stringMatching(new RegExp(`^faultline diff: ${torn}: not JSON \\(.*\\)\\n$`)),
    ]);
    const none = await faultline(['diff', empty, empty, '--matrix', m]);
    expect([none.code, none.err]).toEqual([
      2,
      `faultline diff: ${empty}: a directory with no results files (<layer>.json)\n`,
    ]);
    const missing = await faultline(['diff', torn]);
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('diff needs BASE and HEAD')]);
  });
});
