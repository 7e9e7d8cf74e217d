import { describe, expect, test } from 'vitest';
import { computeCoverage, gate, type LayerResults } from '../src/index.ts';
import { matrix, results, test as t } from './factories.ts';

const m = matrix({
  issues: [
    { id: 'a', title: 'A', severity: 'low', layers: ['l1'] },
    { id: 'b', title: 'B', severity: 'low', layers: ['l1'] },
  ],
});

const cellOf = (rs: LayerResults[], issue: string) =>
  computeCoverage(m, rs, { layers: ['l1'] }).cells.find((c) => c.issue === issue && c.layer === 'l1');

describe('a partial layer (issue 21, item 1)', () => {
  test('one shard of two: no cell is covered or missing; each says which shard did not run', () => {
    const shard1 = results('l1', [t(['a'])], { shard: { index: 1, count: 2 } });
    expect(cellOf([shard1], 'a')).toMatchObject({ state: 'not-run', reason: 'shard 2/2 did not run' });
    expect(cellOf([shard1], 'b')).toMatchObject({ state: 'not-run', reason: 'shard 2/2 did not run' });
  });

  test('a failing test of a partial layer still fails its cell', () => {
    const shard1 = results('l1', [t(['a'], { state: 'failed' })], { shard: { index: 1, count: 2 } });
    expect(cellOf([shard1], 'a')?.state).toBe('failed');
  });

  test('both shards: complete, covered', () => {
    const s1 = results('l1', [t(['a'])], { shard: { index: 1, count: 2 } });
    const s2 = results('l1', [t(['b'])], { shard: { index: 2, count: 2 } });
    expect(cellOf([s1, s2], 'a')?.state).toBe('covered');
    expect(computeCoverage(m, [s1, s2], { layers: ['l1'] }).gaps).toEqual([]);
  });

  test('a merge that lacks a shard (run.shards) is partial too', () => {
    const merged = results('l1', [t(['a'])]);
    merged.run.shards = { count: 3, ran: [1, 3] };
    expect(cellOf([merged], 'b')).toMatchObject({ state: 'not-run', reason: 'shard 2/3 did not run' });
  });

  test('--issue a: the other issues are filtered out, a itself is judged', () => {
    const filtered = results('l1', [t(['a'])]);
    filtered.run.issueFilter = 'a';
    expect(cellOf([filtered], 'a')?.state).toBe('covered');
    expect(cellOf([filtered], 'b')).toMatchObject({ state: 'not-run', reason: 'filtered out by --issue a' });
  });

  test('the gate fails a partial set even when notRun: allow', () => {
    const shard1 = results('l1', [t(['a']), t(['b'])], { shard: { index: 1, count: 2 } });
    const coverage = computeCoverage(m, [shard1], { layers: ['l1'] });
    const verdict = gate(coverage, { ...m.policy, notRun: 'allow' });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual([
      {
        code: 'partial',
        layer: 'l1',
        message:
          'layer l1 is partial (shard 2/2 did not run): a partial run never passes the gate; run the whole layer',
      },
    ]);
  });
});
