// interrupt: SIGINT or SIGTERM to `faultline run` stops every process it started (the layer's vitest
// worker, a test's fork, a detached daemon that ignores SIGTERM) within 2 s, keeps the results of the
// layer that finished, writes the interrupted layer's results marked interrupted, says what it
// stopped and exits 130/143; a second signal exits at once.
// Fault: the signal, sent to the real CLI while layer l2's test holds a fork and a detached daemon.
// Break: FAULTLINE_BREAK=noInterruptReap (the CLI dies of the signal, as before, leaving them running).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerResults } from '@faultline/matrix';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanup,
  fixture,
  fixtureMatrix,
  layerConfig,
  markedProcesses,
  quickTest,
  readJson,
  startCli,
  waitFor,
} from './helpers.ts';

afterEach(cleanup);

/** A test that forks a child and a detached daemon (deaf to SIGTERM), says so, then works for 100 s. */
const slowTest = [
  "import { spawn } from 'node:child_process';",
  "import { writeFileSync } from 'node:fs';",
  "import { join } from 'node:path';",
  "import { test } from 'vitest';",
  "test('works for a long time', { tags: ['work'] }, async () => {",
  "  const fork = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
  "  const daemon = spawn(process.execPath, ['-e', \"process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)\"], { detached: true, stdio: 'ignore' });",
  '  daemon.unref();',
  "  writeFileSync(join(process.env.SELF_PIDS, 'started.json'), JSON.stringify({ test: process.pid, fork: fork.pid, daemon: daemon.pid }));",
  '  await new Promise((r) => setTimeout(r, 100_000));',
  '});',
  '',
].join('\n');

function interruptFixture() {
  return fixture({
    'matrix.yaml': fixtureMatrix(['l1', 'l2']),
    'l1/vitest.config.ts': layerConfig('l1'),
    'l1/quick.test.ts': quickTest,
    'l2/vitest.config.ts': layerConfig('l2'),
    'l2/slow.test.ts': slowTest,
  });
}

const STOP_BUDGET_MS = 2000;
/** What a loaded 2-core machine adds to the 2 s the guarantee allows. */
const MARGIN_MS = 1500;

async function interrupt(signals: NodeJS.Signals[]) {
  const fx = interruptFixture();
  const run = startCli(fx, ['run', '--seed', '7']);
  const started = await waitFor('the l2 test to start its fork and daemon', () => {
    const file = join(fx.pids, 'started.json');
    return existsSync(file) ? readJson<{ test: number; fork: number; daemon: number }>(file) : undefined;
  });
  const before = markedProcesses(fx.mark);
  const sentAt = Date.now();
  for (const [i, s] of signals.entries()) {
    // A signal sent while the same one is still pending is merged into it: let the first land.
    if (i > 0) await new Promise((r) => setTimeout(r, 150));
    try {
      process.kill(run.child.pid ?? 0, s);
    } catch {
      // Already gone after the first: what is measured is when it exited.
    }
  }
  const exited = await Promise.race([
    run.exited,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error('faultline run did not exit in 10 s')), 10_000)),
  ]);
  const elapsed = exited.at - sentAt;
  // The CLI has exited; give the kernel a moment to finish what SIGKILL started before looking.
  const left = await waitFor('the stopped processes to be gone', () => {
    const now = markedProcesses(fx.mark);
    return now.length === 0 || Date.now() - exited.at > 500 ? now : undefined;
  });
  return { fx, started, before, elapsed, exited, left };
}

describe('interrupt', () => {
  test('SIGINT stops the worker, its fork and a detached daemon within 2 s; l1 kept, l2 marked interrupted; exit 130', {
    tags: ['interrupt'],
  }, async () => {
    const { fx, started, before, elapsed, exited, left } = await interrupt(['SIGINT']);
    recordFault({
      kind: 'signal',
      name: 'SIGINT',
      detail: `SIGINT to faultline run while l2's test (pid ${started.test}) held a fork (${started.fork}) and a detached daemon deaf to SIGTERM (${started.daemon}); ${before.length} processes of the run were alive; exited ${exited.code} after ${elapsed} ms with ${left.length} left`,
      attributes: { elapsedMs: elapsed, before: before.length, left: left.length },
    });
    expect(left, 'processes of the run still alive after it exited').toEqual([]);
    expect(exited.code).toBe(130);
    expect(elapsed).toBeLessThanOrEqual(STOP_BUDGET_MS + MARGIN_MS);
    expect(exited.stderr).toMatch(
      /faultline: interrupted \(SIGINT\): stopped l2 worker and \d+ process(es)?; l1 results kept; l2 results marked interrupted/,
    );
    const l1 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l1.json'));
    expect(l1.run.interrupted).toBeUndefined();
    expect(l1.tests.map((t) => t.state)).toEqual(['passed']);
    const l2 = readJson<LayerResults>(join(fx.root, '.faultline', 'results', 'l2.json'));
    expect(l2.run.interrupted?.signal).toBe('SIGINT');
    expect(l2.run.interrupted?.stopped).toBeGreaterThanOrEqual(2);
    expect(l2.projects.map((p) => p.outcome)).toEqual(['interrupted']);
    expect(l2.tests.filter((t) => t.state === 'passed')).toEqual([]);
  });

  test('SIGTERM twice (CI escalating): exits 143 at once, nothing left; the gate then fails l2 as interrupted', {
    tags: ['interrupt'],
  }, async () => {
    const { fx, started, elapsed, exited, left } = await interrupt(['SIGTERM', 'SIGTERM']);
    recordFault({
      kind: 'signal',
      name: 'SIGTERM',
      detail: `two SIGTERMs to faultline run while l2's test (pid ${started.test}) held a fork and a detached daemon; exited ${exited.code} after ${elapsed} ms with ${left.length} left`,
      attributes: { elapsedMs: elapsed, left: left.length },
    });
    expect(left, 'processes of the run still alive after it exited').toEqual([]);
    expect(exited.code).toBe(143);
    expect(elapsed).toBeLessThanOrEqual(STOP_BUDGET_MS + MARGIN_MS);
    // Whatever the second signal cut short, the interrupted layer is never a pass.
    const gate = startCli(fx, ['gate']);
    const gated = await gate.exited;
    const l2 = join(fx.root, '.faultline', 'results', 'l2.json');
    if (existsSync(l2)) expect(gated.stdout).toMatch(/layer l2 was interrupted \(SIGTERM\)|layer l2 has no results/);
    expect(gated.code).toBe(1);
  });
});
