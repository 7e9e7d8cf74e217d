import { fileURLToPath } from 'node:url';
import type { TestRecord } from '@faultline/matrix';
import { beforeAll, describe, expect, test } from 'vitest';
import { startVitest } from 'vitest/node';
import { FaultlineReporter, type ReporterEvent } from '../src/index.ts';

const statesFixture = fileURLToPath(new URL('./fixtures/states', import.meta.url));

// Runs the fixture suite through vitest's API with the faultline reporter, as the runner does.
async function runFixture(fixture = statesFixture): Promise<ReporterEvent[]> {
  const events: ReporterEvent[] = [];
  const reporter = new FaultlineReporter({ project: 'states', root: fixture, onEvent: (e) => events.push(e) });
  const vitest = await startVitest(
    [],
    { root: fixture, run: true, watch: false, reporters: [reporter], sequence: { seed: 1 } },
    {},
    { stdout: process.stderr },
  );
  await vitest.close();
  process.exitCode = undefined; // the fixture fails on purpose; this suite must not inherit it
  return events;
}

describe('FaultlineReporter test states and evidence', () => {
  let events: ReporterEvent[] = [];
  const record = (name: string): TestRecord => {
    const found = events.flatMap((e) => (e.type === 'test' && e.test.name === name ? [e.test] : []));
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };
  const details = (t: TestRecord) => t.evidence.map((e) => e.detail);

  beforeAll(async () => {
    events = await runFixture();
  }, 60_000);

  test('a pass that needed a retry is flaky, with the evidence of every attempt', () => {
    const t = record('passes on its second attempt; the fault fired only on the first');
    expect(t).toMatchObject({ state: 'flaky', flaky: true, retryCount: 1 });
    expect(t.evidence).toMatchObject([{ detail: 'fired on the failing attempt', attempt: 0 }]);
  });

  test('test.fails is expected-fail, never passed', () => {
    expect(record('a known-broken protection').state).toBe('expected-fail');
  });

  test('test.skip and test.todo are their own states; a skip with a reason is not-run', () => {
    expect(record('skipped in the source').state).toBe('skipped');
    expect(record('not written yet').state).toBe('todo');
    expect(record('skips itself for a missing capability')).toMatchObject({
      state: 'not-run',
      note: 'no container runtime',
    });
    expect(record('skips itself with no reason').state).toBe('skipped');
    expect(record('passes with evidence')).toMatchObject({ state: 'passed', flaky: false });
  });

  test('evidence from a hook-started server lands on the concurrent test whose request fired it', () => {
    expect(details(record('fires the fault through the shared server'))).toEqual(['served a corrupt chunk']);
    expect(details(record('fires the fault through the shared server with node:http'))).toEqual([
      'reset a node:http read',
    ]);
    expect(details(record('injects nothing and starts last'))).toEqual([]);
  });

  test('bindEvidence() ties a callback run elsewhere to the test that bound it', () => {
    expect(details(record('binds a job it queues on the shared loop'))).toEqual(['bound job fired']);
    expect(details(record('queues an unbound job on the shared loop'))).toEqual([]);
  });

  test('attribution adds no listener per request on a keep-alive socket', () => {
    expect(record('30 keep-alive requests add no listener per request')).toMatchObject({ state: 'passed', errors: [] });
  });

  test('evidence no test can be held to is reported as unattributed for its file', () => {
    const unattributed = events.flatMap((e) => (e.type === 'unattributed' ? [e] : []));
    expect(unattributed.map((u) => [u.file, u.evidence.map((e) => e.detail).sort()])).toEqual([
      ['test/concurrent.test.ts', ['fired in beforeAll', 'unbound job fired']],
    ]);
  });
});

describe('FaultlineReporter failures where the user looks', () => {
  let events: ReporterEvent[] = [];
  beforeAll(async () => {
    events = await runFixture(fileURLToPath(new URL('./fixtures/typos', import.meta.url)));
  }, 60_000);

  test('an unknown tag is a load error at the test line, with the nearest issue id', () => {
    const errors = events.flatMap((e) => (e.type === 'file-error' ? [e.error] : []));
    expect(errors).toEqual([
      {
        project: 'states',
        file: 'test/typo.test.ts',
        line: 7,
        kind: 'load',
        message:
          'unknown tag "redis-timout" at test/typo.test.ts:7 (did you mean `redis-timeout`?): a tag links a test to the matrix issue of that id (issues: redis-timeout, sig-term)',
      },
    ]);
  });

  test('a failed assertion keeps its expected/received diff', () => {
    const failed = events.flatMap((e) => (e.type === 'test' && e.test.state === 'failed' ? [e.test] : []));
    expect(failed.map((t) => t.name)).toEqual(['compares objects']);
    const error = failed[0]!.errors[0]!;
    expect(error.message).toMatch(/expected .* to deeply equal/);
    expect(error.diff).toContain('-   "retries": 2,');
    expect(error.diff).toContain('+   "retries": 1,');
    expect(error.diff).not.toMatch(/\u001b\[/);
  });
});
