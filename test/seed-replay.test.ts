// Replay is a promise of the README: one FAULTLINE_SEED, read the same way by every fault library,
// gives the same failpoint pattern, kill timing and toxicity in two separate processes; another seed
// gives other draws. Each process really evaluates a failpoint, derives kill-wave delays and opens
// connections through a real embedded Toxiproxy whose reset_peer toxic has toxicity 0.5.
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';

const CHILD = join(import.meta.dirname, 'fixtures', 'seed-replay-child.ts');

async function draws(seed: string): Promise<{ failpoints: string; kills: number[]; toxicity: string }> {
  // Sources, not a build: the child resolves the packages through their `@faultline/source` condition.
  const { stdout } = await execa(process.execPath, ['--conditions=@faultline/source', CHILD], {
    env: { FAULTLINE_SEED: seed },
    timeout: 20_000,
  });
  return JSON.parse(stdout);
}

describe('one seed replays every fault library', () => {
  test('the same FAULTLINE_SEED twice: identical failpoints, kill delays and toxicity; another seed differs', async () => {
    const first = await draws('42');
    const second = await draws('42');
    expect(second).toEqual(first);
    // Not a constant: the draws are mixed, and both outcomes occur.
    expect(first.failpoints).toMatch(/x/);
    expect(first.failpoints).toMatch(/\./);
    expect(first.toxicity).toMatch(/^[x.]{24}$/);
    expect(first.toxicity).toMatch(/x/);
    expect(first.toxicity).toMatch(/\./);
    const other = await draws('43');
    expect(other.failpoints).not.toBe(first.failpoints);
    expect(other.kills).not.toEqual(first.kills);
    expect(other.toxicity).not.toBe(first.toxicity);
  });

  test('a seed that is not a decimal integer is refused by name, the same way everywhere', async () => {
    await expect(draws('12ab')).rejects.toThrow(/FAULTLINE_SEED must be a decimal integer, got '12ab'/);
  });
});
