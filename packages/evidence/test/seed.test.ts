import { describe, expect, test } from 'vitest';
import { createRng, DEFAULT_SEED, deriveSeed, runSeed } from '../src/index.ts';

describe('seeded randomness', () => {
  test('the same seed replays the same sequence; another seed does not', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, createRng(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const v of draw(7)) expect(v >= 0 && v < 1).toBe(true);
  });

  test('int stays in its inclusive range and reaches both ends', () => {
    const rng = createRng(1);
    const seen = new Set(Array.from({ length: 500 }, () => rng.int(3, 6)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    expect(() => rng.int(5, 4)).toThrow(/min <= max/);
  });

  test('derived seeds differ per label', () => {
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
  });

  test('FAULTLINE_SEED is parsed strictly and defaults to a fixed seed', () => {
    expect(runSeed({})).toBe(DEFAULT_SEED);
    expect(runSeed({ FAULTLINE_SEED: '1234' })).toBe(1234);
    expect(() => runSeed({ FAULTLINE_SEED: '12ab' })).toThrow(/FAULTLINE_SEED must be a decimal integer, got '12ab'/);
  });
});
