import { describe, expect, test } from 'vitest';
import { didYouMean, nearestName } from '../src/index.ts';

describe('nearestName', () => {
  test('finds the issue id a typo was meant to be', () => {
    expect(nearestName('redis-timout', ['redis-down', 'redis-timeout', 'sig-term'])).toBe('redis-timeout');
    expect(nearestName('L1', ['l1', 'l2'])).toBe('l1');
  });

  test('suggests nothing when no name is close', () => {
    expect(nearestName('completely-else', ['redis-timeout', 'sig-term'])).toBeUndefined();
    expect(didYouMean('zzz', ['redis-timeout'])).toBe('');
  });

  test('didYouMean quotes the suggestion', () => {
    expect(didYouMean('sig-trem', ['sig-term'])).toBe(' (did you mean `sig-term`?)');
  });
});
