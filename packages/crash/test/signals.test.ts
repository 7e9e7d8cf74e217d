import { captureEvidence } from '@faultline/evidence';
import { afterEach, describe, expect, test } from 'vitest';
import {
  doubleSignal,
  expectExit,
  installOrphanGuard,
  sendSignal,
  spawnManaged,
  waitForExit,
  waitForLine,
} from '../src/index.ts';
import { readProcStat } from '../src/process-table.ts';
import { fixture } from './helpers.ts';

installOrphanGuard(afterEach);

/**
 * A child that exited on its own and is still a zombie: Node reaps children from its event loop,
 * so while this loop is blocked the exit stays unreaped. Busy-waits (bounded, 5 s) for state Z.
 */
function unreapedExit() {
  const proc = spawnManaged(process.execPath, ['-e', 'process.exit(0)'], { name: 'quick-exit' });
  const deadline = Date.now() + 5000;
  while (readProcStat(proc.pid)?.state !== 'Z') {
    if (Date.now() > deadline) throw new Error(`${proc.describe()} did not become a zombie within 5 s`);
  }
  return proc;
}

async function daemon(drainMs: number) {
  const proc = spawnManaged({ node: fixture('graceful.ts') }, [String(drainMs)]);
  await waitForLine(proc, 'ready');
  return proc;
}

describe('signal helpers', () => {
  test('SIGTERM drains and exits 0; the signal is recorded as evidence', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const proc = await daemon(100);
      sendSignal(proc, 'SIGTERM', { context: 'while idle' });
      await expectExit(proc, { code: 0 }, { timeoutMs: 10_000 });
      expect(proc.lines('stdout')).toEqual(['ready', 'draining after SIGTERM', 'drained']);
      expect(log.entries).toEqual([
        expect.objectContaining({
          kind: 'signal',
          name: 'graceful.ts',
          detail: `pid ${proc.pid} got SIGTERM while idle`,
          source: '@faultline/crash',
          attributes: { pid: proc.pid, signal: 'SIGTERM', group: false },
        }),
      ]);
    } finally {
      restore();
    }
  });

  test('a second signal during the drain exits at once', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const proc = await daemon(20_000);
      const { exit, exitAfterSecondMs } = await doubleSignal(proc, 'SIGTERM', { afterLine: /draining/, gapMs: 0 });
      expect(exit).toEqual({ code: 130, signal: null });
      expect(exitAfterSecondMs).toBeLessThan(5000); // far below the 20 s drain
      expect(log.entries.map((e) => e.detail)).toEqual([
        `pid ${proc.pid} got SIGTERM (first of two)`,
        `pid ${proc.pid} got SIGTERM (second of two)`,
      ]);
    } finally {
      restore();
    }
  });

  test('doubleSignal refuses to pass when the process is gone before the second signal', async () => {
    const proc = await daemon(0);
    await expect(doubleSignal(proc, 'SIGINT', { gapMs: 1000 })).rejects.toThrow(
      expect.objectContaining({
        kind: 'vacuous',
        message: expect.stringMatching(
          /doubleSignal: pid \d+ \(graceful.ts\) exited with code 0 after the first SIGINT, before the second could be sent/,
        ),
      }),
    );
  });

  test('a child that exited but is not yet reaped is not live: no signal is recorded, and exit 0 cannot pass vacuously', async () => {
    const { log, restore } = captureEvidence(1000);
    try {
      const proc = unreapedExit();
      expect(proc.running).toBe(true); // Node has not reaped it yet: only /proc knows
      expect(() => sendSignal(proc, 'SIGTERM')).toThrow(
        expect.objectContaining({
          kind: 'vacuous',
          message: expect.stringMatching(
            /cannot send SIGTERM to pid \d+ \(quick-exit\): it already exited \(a zombie not yet reaped\)/,
          ),
        }),
      );
      const group = unreapedExit();
      expect(() => sendSignal(group, 'SIGTERM', { group: true })).toThrow(/no live process in its group/);
      expect(log.entries).toEqual([]);
      await Promise.all([proc.exited, group.exited]);
    } finally {
      restore();
    }
  });

  test('expectExit names the expected and actual outcome', async () => {
    const proc = await daemon(100);
    sendSignal(proc, 'SIGKILL');
    await expect(expectExit(proc, { code: 0 })).rejects.toThrow(
      expect.objectContaining({
        kind: 'violation',
        message: expect.stringMatching(
          /expected pid \d+ \(graceful.ts\) to exit with code 0, but it was killed by SIGKILL \(last output: ready\)/,
        ),
      }),
    );
    await expect(expectExit(proc, { signal: 'SIGKILL' })).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(() => sendSignal(proc, 'SIGTERM')).toThrow(
      /cannot send SIGTERM to pid \d+ \(graceful.ts\): it was killed by SIGKILL/,
    );
  });

  test('waitForExit is bounded: on timeout it kills the process and says so', async () => {
    const proc = await daemon(100);
    await expect(waitForExit(proc, { timeoutMs: 200 })).rejects.toThrow(
      expect.objectContaining({
        kind: 'timeout',
        message: expect.stringMatching(
          /waitForExit timed out after 200 ms waiting for pid \d+ \(graceful.ts\) to exit; killed its process group with SIGKILL/,
        ),
      }),
    );
    expect(proc.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
