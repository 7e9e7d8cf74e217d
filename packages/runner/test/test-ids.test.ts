import type { TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import { uniqueTestIds } from '../src/index.ts';

const record = (name: string, line: number, over: Partial<TestRecord> = {}): TestRecord => ({
  id: `p::t.test.ts::${name}`,
  project: 'p',
  file: 't.test.ts',
  line,
  column: 3,
  name,
  fullName: name,
  tags: [],
  state: 'passed',
  durationMs: 1,
  retryCount: 0,
  flaky: false,
  evidence: [],
  errors: [],
  ...over,
});

describe('uniqueTestIds (issue 21, item 8)', () => {
  test('a unique id is kept as it is', () => {
    expect(uniqueTestIds([record('a', 1), record('b', 2)]).map((t) => t.id)).toEqual([
      'p::t.test.ts::a',
      'p::t.test.ts::b',
    ]);
  });

  test('two tests of one name in one file get their place; the same test run twice a run number', () => {
    const ids = uniqueTestIds([record('a', 9), record('a', 4), record('a', 4), record('b', 1)]).map((t) => t.id);
    expect(ids).toEqual(['p::t.test.ts::b', 'p::t.test.ts::a@4:3#1', 'p::t.test.ts::a@4:3#2', 'p::t.test.ts::a@9:3']);
    expect(new Set(ids).size).toBe(4);
  });
});
