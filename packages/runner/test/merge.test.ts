import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
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
