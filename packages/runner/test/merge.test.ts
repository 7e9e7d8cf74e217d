import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { mergeResults } from '../src/index.ts';
import { demo, faultline, readJson } from './helpers.ts';

const matrix = join(demo, 'matrix.yaml');

describe('sharded runs and merge', () => {
  test('two shards of l2 merge into one result that gates like an unsharded run', async () => {
    const a = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2', '--seed', '5']);
    const b = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '2/2', '--seed', '5']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const shardA = readJson<LayerResults>(join(a.dir, 'results', 'l2.1of2.json'));
    const shardB = readJson<LayerResults>(join(b.dir, 'results', 'l2.2of2.json'));
    // Each shard ran a different file.
    expect(shardA.tests.length).toBe(1);
    expect(shardB.tests.length).toBe(1);
    expect(shardA.tests[0]!.file).not.toBe(shardB.tests[0]!.file);

    const merged = await faultline([
      'merge',
      '--matrix',
      matrix,
      '--from',
      `${join(a.dir, 'results')},${join(b.dir, 'results')}`,
    ]);
    expect(merged.code).toBe(0);
    const out = join(merged.dir, 'results');
    expect(readdirSync(out)).toEqual(['l2.json']);
    const l2 = readJson<LayerResults>(join(out, 'l2.json'));
    expect(l2.tests.map((t) => t.file).sort()).toEqual([
      'suites/demo-l2/test/crash.test.ts',
      'suites/demo-l2/test/signal.test.ts',
    ]);
    expect(l2.projects).toEqual([expect.objectContaining({ name: 'demo-l2', tests: 2, outcome: 'completed' })]);
    const gated = await faultline(['gate', '--matrix', matrix, '--layer', 'l2', '--results', out]);
    expect(gated.code).toBe(0);
  });

  test('a missing shard is refused unless --allow-partial', async () => {
    const a = await faultline(['run', '--matrix', matrix, '--layer', 'l2', '--shard', '1/2']);
    const refused = await faultline(['merge', '--matrix', matrix, '--from', join(a.dir, 'results')]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('shard 2/2 of l2 is missing');
    const partial = await faultline(['merge', '--matrix', matrix, '--from', join(a.dir, 'results'), '--allow-partial']);
    expect(partial.code).toBe(0);
  });
});

describe('mergeResults: shards and ids (issue 21)', () => {
  const base = (over: Partial<LayerResults>): LayerResults => ({
    schema: 'faultline/results@1',
    layer: 'l2',
    run: {
      seed: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
      capabilities: {},
      versions: {},
      runId: 'r1',
      matrixDigest: 'sha256:x',
    },
    projects: [],
    tests: [],
    errors: [],
    ...over,
  });

  test('a partial merge merged again with its missing shard is complete', () => {
    const first = mergeResults([base({ shard: { index: 1, count: 2 } })]).merged[0]!;
    expect(first.run.shards).toEqual({ count: 2, ran: [1] });
    const again = mergeResults([first, base({ shard: { index: 2, count: 2 } })]);
    expect(again.problems).toEqual([]);
    expect(again.merged[0]!.run.shards).toBeUndefined();
  });

  test('files of different runs are refused, even with --allow-partial', () => {
    const other = base({ shard: { index: 2, count: 2 } });
    other.run = { ...other.run, runId: 'r2' };
    const { problems } = mergeResults([base({ shard: { index: 1, count: 2 } }), other]);
    expect(problems).toContainEqual(
      expect.objectContaining({ refuse: true, message: expect.stringContaining('mix runs') }),
    );
  });
});
