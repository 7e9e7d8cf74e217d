// disk-full and read-only-results: results or reports that cannot be written end the run with one
// line naming the path and the error (`faultline run: cannot write <path>: <words> (<CODE>)`), exit 2,
// earlier results and reports as they were, and no temp file left.
// Reports are published together: a disk that fills after some of them leaves every earlier report as it
// was, never new junit beside an old matrix.md.
// Faults: a real tmpfs filled to the last byte by a test while the run is in flight (ENOSPC), a reports
// tmpfs filled so that only two pages are left when the reports are written (ENOSPC), and the results dir
// bind-mounted read-only over itself (EROFS). Root only: elsewhere the tests skip (not-run).
// Breaks: FAULTLINE_BREAK=rawWriteErrors (Node's stack trace and exit 1, as before issue 20);
// FAULTLINE_BREAK=noStagedReports (each report replaced on its own: the new junit beside the old matrix.html).
import { closeSync, openSync, readdirSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup,
  fixture,
  fixtureMatrix,
  layerConfig,
  mountTmpfs,
  quickTest,
  readJson,
  remountReadOnly,
  runCli,
  snapshot,
} from './helpers.ts';

afterEach(cleanup);

/** A passing test that, when SELF_FILL names a directory, fills its file system to the last byte. */
const fillingTest = [
  "import { closeSync, openSync, writeSync } from 'node:fs';",
  "import { join } from 'node:path';",
  "import { recordFault } from '@faultline/vitest';",
  "import { test } from 'vitest';",
  "test('does its work, and fills the disk when asked', { tags: ['work'] }, () => {",
  "  recordFault({ kind: 'demo', name: 'quick', detail: 'a fault that acted' });",
  '  const dir = process.env.SELF_FILL;',
  '  if (!dir) return;',
  "  const fd = openSync(join(dir, 'filler'), 'w');",
  '  const block = Buffer.alloc(4096, 1);',
  '  try {',
  '    for (;;) writeSync(fd, block);',
  '  } catch (error) {',
  "    if (error.code !== 'ENOSPC') throw error;",
  '  } finally {',
  '    closeSync(fd);',
  '  }',
  '  // Then byte by byte: not even a small results file must fit.',
  "  const tail = openSync(join(dir, 'filler-tail'), 'w');",
  '  try {',
  '    for (;;) writeSync(tail, block, 0, 1);',
  '  } catch (error) {',
  "    if (error.code !== 'ENOSPC') throw error;",
  '  } finally {',
  '    closeSync(tail);',
  '  }',
  '});',
  '',
].join('\n');

function twoLayers() {
  return fixture({
    'matrix.yaml': fixtureMatrix(['l1', 'l2']),
    'l1/vitest.config.ts': layerConfig('l1'),
    'l1/quick.test.ts': quickTest,
    'l2/vitest.config.ts': layerConfig('l2'),
    'l2/fill.test.ts': fillingTest,
  });
}

/** Temp files and staging directories anywhere under `dir` (none may outlive a run). */
const tempFiles = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tmp$|staging/.test(f));

/** Fills the file system of `dir` until `pages` free pages are left; what statfs says is left, in pages. */
function fillLeaving(dir: string, pages: number): number {
  const { bsize, bavail } = statfsSync(dir);
  const bytes = Buffer.alloc((bavail - pages) * bsize, 1);
  const fd = openSync(join(dir, 'filler'), 'w');
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
  } finally {
    closeSync(fd);
  }
  return statfsSync(dir).bavail;
}

describe('a full or read-only results disk', () => {
  test('disk fills while l2 runs: one line naming l2.json and ENOSPC, exit 2, l1 and the earlier reports untouched, no temp file', {
    tags: ['disk-full'],
  }, async (ctx) => {
    const fx = twoLayers();
    const disk = join(fx.root, 'disk');
    const cannot = mountTmpfs(disk, '4m');
    if (cannot) return ctx.skip(cannot);
    const args = ['run', '--results', 'disk/results', '--gate', '--out', 'disk/reports'];
    const first = await runCli(fx, args);
    expect(first.code, first.stderr).toBe(0);
    const reportsBefore = snapshot(join(disk, 'reports'));

    const full = await runCli(fx, args, { SELF_FILL: disk });
    const results = join(disk, 'results');
    recordFault({
      kind: 'fs',
      name: 'ENOSPC',
      detail: `a 4 MiB tmpfs holding the results and reports, filled to the last byte by l2's test while faultline run was in flight; the run exited ${full.code}`,
      attributes: { exitCode: full.code ?? -1 },
    });
    const lines = full.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `faultline run: cannot write ${join(results, 'l2.json')}: no space left on the device (ENOSPC)`,
    );
    expect(full.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(full.code).toBe(2);
    // l1 finished before the disk filled: its results of this run are whole.
    const l1 = readJson<LayerResults>(join(results, 'l1.json'));
    expect(l1.tests.map((t) => t.state)).toEqual(['passed']);
    expect(snapshot(join(disk, 'reports'))).toEqual(reportsBefore);
    expect(tempFiles(disk)).toEqual([]);
  });

  test('disk fills while the reports are written: one line naming a report and ENOSPC, exit 2, every earlier report byte-identical, no temp file', {
    tags: ['disk-full'],
  }, async (ctx) => {
    const fx = fixture({
      'matrix.yaml': fixtureMatrix(['l1']),
      'l1/vitest.config.ts': layerConfig('l1'),
      'l1/quick.test.ts': quickTest,
    });
    const disk = join(fx.root, 'disk');
    const cannot = mountTmpfs(disk, '1m');
    if (cannot) return ctx.skip(cannot);
    // Results on the fixture's own disk (they fit); the reports on the small tmpfs.
    const args = ['run', '--gate', '--out', 'disk/reports'];
    const first = await runCli(fx, args);
    expect(first.code, first.stderr).toBe(0);
    const reports = join(disk, 'reports');
    const before = snapshot(reports);
    expect(Object.keys(before).sort()).toEqual([
      'junit/l1.xml',
      'junit/matrix.xml',
      'matrix.html',
      'matrix.json',
      'matrix.md',
    ]);
    // Two pages: each small report (one page) fits, matrix.html (~33 kB, nine pages) does not. Written one
    // by one, junit and matrix.md would be replaced before matrix.html failed.
    expect(before['matrix.html']?.length).toBeGreaterThan(3 * 4096);
    const left = fillLeaving(disk, 2);

    const full = await runCli(fx, args);
    const after = snapshot(reports);
    const replaced = Object.keys(before).filter((f) => after[f] !== before[f]);
    recordFault({
      kind: 'fs',
      name: 'ENOSPC',
      detail: `a 1 MiB tmpfs holding the reports, filled to ${left} free pages before faultline run --gate wrote them; the run exited ${full.code}, ${replaced.length} of ${Object.keys(before).length} earlier reports changed`,
      attributes: { exitCode: full.code ?? -1, freePages: left, replaced: replaced.length },
    });
    const lines = full.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^faultline run: cannot write ${reports}/\\S+: no space left on the device \\(ENOSPC\\)$`),
    );
    expect(full.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(full.code).toBe(2);
    // The run's results were written (they fit): only the reports are missing, and all of them alike.
    expect(readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l1.json')).tests).toHaveLength(1);
    expect(replaced, 'reports replaced although the set was not written').toEqual([]);
    expect(after).toEqual(before);
    expect(tempFiles(disk)).toEqual([]);
  });

  test('read-only results dir: one line naming it and EROFS, exit 2 before any test runs, earlier results and reports untouched', {
    tags: ['read-only-results'],
  }, async (ctx) => {
    const fx = twoLayers();
    const out = join(fx.root, 'out');
    const args = ['run', '--results', 'out/results', '--gate', '--out', 'out/reports'];
    const first = await runCli(fx, args);
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(out);
    const cannot = remountReadOnly(out);
    if (cannot) return ctx.skip(cannot);

    const started = Date.now();
    const ro = await runCli(fx, args);
    const elapsed = Date.now() - started;
    recordFault({
      kind: 'fs',
      name: 'EROFS',
      detail: `the results dir bind-mounted read-only over itself before faultline run; it exited ${ro.code} after ${elapsed} ms`,
      attributes: { exitCode: ro.code ?? -1, elapsedMs: elapsed },
    });
    expect(ro.stderr.trim()).toBe(
      `faultline run: cannot write ${join(out, 'results')}: the file system is read-only (EROFS)`,
    );
    expect(ro.code).toBe(2);
    expect(ro.stdout).not.toMatch(/passed|failed/); // no test ran
    expect(snapshot(out)).toEqual(before);
  });
});
