// Checklist §7 "Parsing" (failpoints-anchors.md), items 1-6, plus the Node crash tasks.
import { describe, expect, test } from 'vitest';
import { cfg, FailpointConfigError, list, parseSpec, remove } from '../src/index.ts';

const one = (spec: string) => {
  const actions = parseSpec(spec);
  expect(actions).toHaveLength(1);
  return actions[0]!;
};

describe('parsing', () => {
  test('1: return has no arg, return(64) gives "64", return() gives ""', () => {
    expect(one('return')).toMatchObject({ task: 'return', arg: undefined });
    expect(one('return(64)')).toMatchObject({ task: 'return', arg: '64' });
    expect(one('return()')).toMatchObject({ task: 'return', arg: '' });
  });

  test('2: count, probability, p > 1 means always', () => {
    expect(one('5*return')).toMatchObject({ count: 5, probability: 1 });
    expect(one('25%return')).toMatchObject({ count: undefined, probability: 0.25 });
    expect(one('125%2*return')).toMatchObject({ count: 2, probability: 1.25 });
    expect(one('0.5%return').probability).toBeCloseTo(0.005);
  });

  test('3: args come out before % and *', () => {
    expect(one('return(2%5)')).toMatchObject({ arg: '2%5', probability: 1, count: undefined });
    expect(one('return(3*4)')).toMatchObject({ arg: '3*4', count: undefined });
    expect(one('return(a(b))')).toMatchObject({ arg: 'a(b)' });
  });

  test('4: each action is trimmed; every task parses with 125%2*', () => {
    expect(one(' 125%2*off ')).toMatchObject({ task: 'off', count: 2 });
    expect(parseSpec('return -> panic').map((a) => a.task)).toEqual(['return', 'panic']);
    for (const spec of [
      'off',
      'sleep(100)',
      'panic',
      'panic(msg)',
      'print',
      'print(msg)',
      'pause',
      'yield',
      'delay(2)',
      'exit',
      'exit(42)',
      'abort',
      'kill',
      'kill(SIGTERM)',
      'kill(9)',
    ]) {
      expect(() => parseSpec(`125%2*${spec}`), spec).not.toThrow();
    }
    expect(one('kill').value).toBe('SIGKILL');
    expect(one('kill(9)').value).toBe('SIGKILL');
    expect(one('kill(TERM)').value).toBe('SIGTERM');
    expect(one('exit').value).toBe(1);
    expect(one('sleep(100)').value).toBe(100);
  });

  test('5: invalid specs are rejected with a message naming the action', () => {
    for (const bad of [
      'sleep',
      'delay',
      'Return',
      'ab%return',
      'ab*return',
      'return(msg',
      'unknown',
      '2*50%return',
      '50% return',
      'sleep(1.5)',
      '-5%return',
      'off(1)',
      'exit(300)',
      'kill(SIGNOPE)',
      'return->',
    ]) {
      expect(() => parseSpec(bad), bad).toThrow(FailpointConfigError);
    }
    expect(() => parseSpec('return(msg')).toThrow(/parentheses do not match/);
    expect(() => parseSpec('sleep')).toThrow(/sleep requires a timeout/);
    expect(() => parseSpec('Return')).toThrow(/unknown task "Return"/);
  });

  test('6: a rejected config leaves the previous one; the empty string is rejected', () => {
    cfg('parse-6', 'return(1)');
    try {
      expect(() => cfg('parse-6', 'return(2)->bogus')).toThrow(FailpointConfigError);
      expect(() => cfg('parse-6', '')).toThrow(/missing task/);
      expect(list()).toContainEqual(['parse-6', 'return(1)']);
    } finally {
      remove('parse-6');
    }
  });

  test('invalid names are refused', () => {
    expect(() => cfg('', 'off')).toThrow(/invalid failpoint name/);
    expect(() => cfg('a=b', 'off')).toThrow(/invalid failpoint name/);
  });
});
