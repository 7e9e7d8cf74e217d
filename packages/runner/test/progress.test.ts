import type { FileError, LayerResults, TestRecord } from '@faultline/matrix';
import { describe, expect, test } from 'vitest';
import type { LayerPlan } from '../src/plan.ts';
import { estimateLeft, lineProgress, ttyProgress } from '../src/progress.ts';

const plan = { layer: 'l1', title: 'Mocks', projects: [{ name: 'suite-l1' }], timeoutMs: 1000 } as unknown as LayerPlan;

function record(over: Partial<TestRecord>): TestRecord {
  return {
    id: 'x',
    project: 'suite-l1',
    file: 'suites/l1/test/a.test.ts',
    line: 12,
    column: 3,
    name: 'writes atomically',
    fullName: 'store > writes atomically',
    tags: ['write-atomic'],
    state: 'passed',
    durationMs: 5,
    retryCount: 0,
    flaky: false,
    evidence: [],
    errors: [],
    ...over,
  };
}

const failed = record({
  state: 'failed',
  errors: [{ message: 'AssertionError: expected 1 to be 2', diff: '- Expected\n+ Received\n\n- 2\n+ 1' }],
});
const loadError: FileError = {
  project: 'suite-l1',
  file: 'suites/l1/test/b.test.ts',
  line: 7,
  kind: 'load',
  message: 'unknown tag "redis-timout" at suites/l1/test/b.test.ts:7 (did you mean `redis-timeout`?)',
};
const results = {
  schema: 'faultline/results@1',
  layer: 'l1',
  run: { seed: 42, startedAt: '', endedAt: '', durationMs: 1500, capabilities: {}, versions: {} },
  projects: [],
  tests: [record({}), failed],
  errors: [loadError],
} as LayerResults;

function drive(sink: ReturnType<typeof lineProgress>): void {
  sink.layerStart(plan);
  sink.event('l1', 'suite-l1', { type: 'module-start', file: failed.file });
  sink.event('l1', 'suite-l1', { type: 'test', test: results.tests[0]! });
  sink.event('l1', 'suite-l1', { type: 'test', test: failed });
  sink.event('l1', 'suite-l1', { type: 'module-end', file: failed.file, state: 'failed' });
  sink.event('l1', 'suite-l1', { type: 'module-start', file: loadError.file });
  sink.event('l1', 'suite-l1', { type: 'file-error', error: loadError });
  sink.event('l1', 'suite-l1', { type: 'module-end', file: loadError.file, state: 'failed' });
  sink.layerEnd(plan, results);
}

/** A stream that keeps what is written. */
function memory(tty = false): { stream: NodeJS.WriteStream; text: () => string; clear: () => void } {
  let text = '';
  const write = (s: string) => {
    text += s;
    return true;
  };
  const stream = { write, columns: 200, isTTY: tty } as unknown as NodeJS.WriteStream;
  return {
    stream,
    text: () => text,
    clear: () => {
      text = '';
    },
  };
}

function capture(tty: boolean): string {
  const out = memory(tty);
  drive(tty ? ttyProgress(out.stream) : lineProgress(out.stream));
  return out.text();
}

const failureList = [
  'l1: 1 failed test, 1 file error:',
  '  ✗ [write-atomic] suites/l1/test/a.test.ts:12 store > writes atomically',
  '      AssertionError: expected 1 to be 2',
  '      - Expected',
  '      + Received',
  '      ',
  '      - 2',
  '      + 1',
  '      replay: faultline run --layer l1 --issue write-atomic --seed 42',
  '  ✗ suites/l1/test/b.test.ts:7 did not load',
  '      unknown tag "redis-timout" at suites/l1/test/b.test.ts:7 (did you mean `redis-timeout`?)',
  '      replay: faultline run --layer l1 --seed 42',
].join('\n');

describe('progress: failures where the user looks', () => {
  test('plain lines: a file that did not load says so, and the layer ends with every failure', () => {
    const text = capture(false);
    expect(text).toContain('l1: FAIL suite-l1 suites/l1/test/a.test.ts (1 passed, 1 failed)\n');
    expect(text).toContain('l1: FAIL suite-l1 suites/l1/test/b.test.ts (did not load)\n');
    expect(text).not.toMatch(/ok {3}suite-l1 suites\/l1\/test\/b/);
    expect(text).toContain(`${failureList}\n`);
  });

  test('a terminal shows the same list after the layer', () => {
    const text = capture(true).replaceAll('\r\u001b[K', '');
    expect(text).toContain(`${failureList}\n`);
  });

  test('a layer with no failures adds no list; hostile text cannot move the cursor', () => {
    const out = memory();
    const sink = lineProgress(out.stream);
    sink.layerStart(plan);
    sink.layerEnd(plan, { ...results, tests: [record({})], errors: [] });
    expect(out.text()).not.toContain('✗');
    out.clear();
    const hostile = record({
      state: 'failed',
      fullName: 'a\u001b[2Jb',
      errors: [{ message: 'x\u0007y\u001b]0;t\u0007' }],
    });
    sink.layerStart(plan);
    sink.layerEnd(plan, { ...results, tests: [hostile], errors: [] });
    expect(out.text()).toContain('✗');
    expect(out.text()).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe('progress a person can read', () => {
  function driveCounted(sink: ReturnType<typeof lineProgress>): void {
    sink.layerStart(plan);
    sink.event('l1', 'suite-l1', { type: 'run-start', files: 2 });
    sink.event('l1', 'suite-l1', { type: 'module-start', file: failed.file });
    sink.event('l1', 'suite-l1', { type: 'test', test: results.tests[0]! });
    sink.event('l1', 'suite-l1', { type: 'module-end', file: failed.file, state: 'passed' });
  }

  test('plain lines count files done of the total the worker announced', () => {
    const out = memory();
    driveCounted(lineProgress(out.stream));
    expect(out.text()).toContain('l1: ok   [1/2] suite-l1 suites/l1/test/a.test.ts (1 passed, 0 failed)\n');
  });

  test('a terminal line shows files done of total, counts, and time left from the last run', () => {
    const out = memory(true);
    const sink = ttyProgress(out.stream, { expectedMs: (layer) => (layer === 'l1' ? 60_000 : undefined) });
    driveCounted(sink);
    const last = out.text().split('\r\u001b[K').at(-1) ?? '';
    expect(last).toMatch(/^l1 ▸ 1\/2 files {2}1 passed, 0 failed {2}\d+\.\ds ~(59|60)\.\ds left \(last run 60\.0s\)/);
    sink.layerEnd(plan, { ...results, tests: [record({})], errors: [] });
  });

  test('the estimate: last run first, else the share of files done, else nothing', () => {
    expect(estimateLeft(10_000, { total: 4, done: 1 }, 40_000)).toBe('~30.0s left (last run 40.0s)');
    expect(estimateLeft(50_000, { total: 4, done: 3 }, 40_000)).toBe("over last run's 40.0s");
    expect(estimateLeft(10_000, { total: 4, done: 1 })).toBe('~30.0s left');
    expect(estimateLeft(10_000, { total: 4, done: 0 })).toBe('');
    expect(estimateLeft(10_000, { total: 0, done: 2 })).toBe('');
  });
});
