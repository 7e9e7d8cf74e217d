import { deriveSeed } from '@faultline/evidence';
import { describe, expect, test } from 'vitest';
import { waveDelayMs } from '../src/index.ts';

describe('seeded kill timing', () => {
  test('wave delays replay per (seed, wave) and differ between waves', () => {
    const delays = (seed: number) => [1, 2, 3, 4, 5].map((w) => waveDelayMs(seed, w, [50, 5000]));
    expect(delays(99)).toEqual(delays(99));
    expect(new Set(delays(99)).size).toBeGreaterThan(1);
    for (const d of delays(99)) expect(d >= 50 && d <= 5000).toBe(true);
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
  });
});
