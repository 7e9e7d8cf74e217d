// Issue 21, items 1, 2 and 8: the gate knows which run, shard, filter and matrix each results file
// belongs to; partial sets are reported as partial, mixed sets refused, stale files replaced, and
// every test keeps an id of its own.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { demo, faultline, readJson } from './helpers.ts';

const matrix = join(demo, 'matrix.yaml');
const digest = `sha256:${createHash('sha256').update(readFileSync(matrix)).digest('hex')}`;
const scratch = () => join(mkdtempSync(join(tmpdir(), 'faultline-complete-')), 'results');

describe('every results file says what it belongs to', () => {
  test('layer, shard, issue filter, matrix digest and run id', async () => {
    const r = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2', '--run-id', 'ci-42']);
    expect(r.code).toBe(0);
    const shard = readJson<LayerResults>(join(r.dir, 'results', 'l2.1of2.json'));
    expect(shard).toMatchObject({ layer: 'l2', shard: { index: 1, count: 2 } });
    expect(shard.run).toMatchObject({ runId: 'ci-42', matrixDigest: digest });
    const f = await faultline(['run', '--matrix', matrix, '--layer', 'l1', '--issue', 'crash']);
    const filtered = readJson<LayerResults>(join(f.dir, 'results', 'l1.json'));
    expect(filtered.run).toMatchObject({ issueFilter: 'crash', matrixDigest: digest });
    expect(filtered.run.runId).toMatch(/\S{8,}/);
  });
});

describe('a partial set is reported as partial, never as missing tests or a pass', () => {
  test('one shard of two: the gate fails and names the shard that did not run', async () => {
    const r = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2', '--seed', '3']);
    const gated = await faultline(['gate', '--matrix', matrix, '--layer', 'l2', '--results', join(r.dir, 'results')]);
    expect(gated.code).toBe(1);
    expect(gated.out).toContain('✗ layer l2 is partial (shard 2/2 did not run)');
    // The crash test in shard 1 passed, but shard 2 may hold a failing one: the cell is not a pass.
    expect(gated.out).toContain('crash × l2 did not run: shard 2/2 did not run');
    expect(gated.out).toContain('gate: FAILED');
    expect(gated.out).not.toContain('has no test');
  });

  test('an --issue run: the other cells are not-run, filtered out by --issue', async () => {
    const r = await faultline(['run', '--matrix', matrix, '--layer', 'l1', '--issue', 'crash', '--gate']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('retry × l1 did not run: filtered out by --issue crash');
    expect(r.out).not.toContain('has no test');
    const report = readJson<{ cells: Array<{ issue: string; layer: string; state: string; reason?: string }> }>(
      join(r.dir, 'reports', 'matrix.json'),
    );
    expect(report.cells.find((c) => c.issue === 'crash' && c.layer === 'l1')?.state).toBe('covered');
    expect(report.cells.find((c) => c.issue === 'retry' && c.layer === 'l1')).toMatchObject({
      state: 'not-run',
      reason: 'filtered out by --issue crash',
    });
  });

  test('merge --allow-partial keeps the gap: the gate names the missing shard', async () => {
    const a = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '2/2', '--seed', '4']);
    const out = scratch();
    const merged = await faultline([
      'merge',
      '--matrix',
      matrix,
      '--from',
      join(a.dir, 'results'),
      '--results',
      out,
      '--allow-partial',
    ]);
    expect(merged.code).toBe(0);
    const gated = await faultline(['gate', '--matrix', matrix, '--layer', 'l2', '--results', out]);
    expect(gated.code).toBe(1);
    expect(gated.out).toContain('✗ layer l2 is partial (shard 1/2 did not run)');
    // The job summary (reports/matrix.md) names the missing shard.
    expect(readFileSync(join(gated.dir, 'reports', 'matrix.md'), 'utf8')).toContain('shard 1/2 did not run');
  });
});

describe('gate and report refuse a set that mixes runs or matrices (exit 2, one line per file)', () => {
  test('two shards of different runs', async () => {
    const out = scratch();
    const common = ['run', '--matrix', matrix, '--layer', 'l2', '--seed', '5', '--results', out];
    await faultline([...common, '--shard', '1/2', '--run-id', 'run-a']);
    await faultline([...common, '--shard', '2/2', '--run-id', 'run-b']);
    // The second run keeps its sibling shard only when it belongs to the same run: here it replaced it.
    expect(readdirSync(out).sort()).toEqual(['l2.2of2.json']);
    const keep = join(scratch(), '..', 'keep.json');
    cpSync(join(out, 'l2.2of2.json'), keep);
    await faultline([...common, '--shard', '1/2', '--run-id', 'run-a']);
    cpSync(keep, join(out, 'l2.2of2.json'));
    const mixed = ['l2.1of2.json', 'l2.2of2.json'];
    for (const cmd of ['gate', 'report']) {
      const r = await faultline([cmd, '--matrix', matrix, '--layer', 'l2', '--results', out]);
      expect(r.code).toBe(2);
      const lines = r.err.trim().split('\n');
      for (const name of mixed) {
        expect(lines.filter((l) => l.includes(`${name}:1:1: layer l2 mixes runs: this file is run run-`))).toHaveLength(
          1,
        );
      }
    }
  });

  test('results of another matrix', async () => {
    const r = await faultline(['run', '--matrix', matrix, '--layer', 'l1']);
    const other = join(demo, 'matrix-crash.yaml');
    const gated = await faultline(['gate', '--matrix', other, '--layer', 'l1', '--results', join(r.dir, 'results')]);
    expect(gated.code).toBe(2);
    expect(gated.err).toMatch(/l1\.json:1:1: .*another matrix/);
  });
});

describe('run replaces the results it supersedes', () => {
  test('an unsharded run removes the shard files of the layer (and no others)', async () => {
    const out = scratch();
    await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2', '--results', out]);
    await faultline(['run', '--matrix', matrix, '--layer', 'l1', '--results', out]);
    expect(readdirSync(out).sort()).toEqual(['l1.json', 'l2.1of2.json']);
    const r = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--results', out, '--gate']);
    expect(readdirSync(out).sort()).toEqual(['l1.json', 'l2.json']);
    expect(r.code).not.toBe(2);
    expect(r.out).not.toContain('partial');
  });

  test('a sharded run removes the unsharded file and shards of another count', async () => {
    const out = scratch();
    await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--results', out]);
    await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/3', '--results', out]);
    await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2', '--seed', '9', '--results', out]);
    await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '2/2', '--seed', '9', '--results', out]);
    expect(readdirSync(out).sort()).toEqual(['l2.1of2.json', 'l2.2of2.json']);
    const gated = await faultline(['gate', '--matrix', matrix, '--layer', 'l2', '--results', out]);
    expect(gated.code).not.toBe(2);
    expect(gated.out).not.toContain('partial');
    expect(gated.out).toMatch(/l2 × |matrix demo/);
  });
});

describe('test ids are unique across files, projects and repeats', () => {
  test('two tests of one name in one file, run by two vitest projects: four results, merge keeps all', async () => {
    const twins = join(demo, 'matrix-twins.yaml');
    const r = await faultline(['run', '--matrix', twins]);
    expect(r.code).toBe(0);
    const l1 = readJson<LayerResults>(join(r.dir, 'results', 'l1.json'));
    expect(l1.tests).toHaveLength(4);
    expect(new Set(l1.tests.map((t) => t.id)).size).toBe(4);
    const merged = await faultline(['merge', '--matrix', twins, '--from', join(r.dir, 'results')]);
    expect(merged.code).toBe(0);
    const out = readJson<LayerResults>(join(merged.dir, 'results', 'l1.json'));
    expect(out.tests).toHaveLength(4);
  });
});
