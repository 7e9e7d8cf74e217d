import { captureEvidence } from '@faultline/evidence';
import { afterEach, describe, expect, test } from 'vitest';
import {
  doubleSignal,
  expectExit,
  installOrphanGuard,
  sendSignal,
  spawnNode,
  waitForExit,
  waitForLine,
} from '../src/index.ts';
import { fixture } from './helpers.ts';

installOrphanGuard(afterEach);

async function daemon(drainMs: number) {
  const proc = spawnNode(fixture('graceful.ts'), [String(drainMs)]);
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
      /doubleSignal: pid \d+ \(graceful.ts\) exited with code 0 after the first SIGINT, before the second could be sent/,
    );
  });

  test('expectExit names the expected and actual outcome', async () => {
    const proc = await daemon(100);
    sendSignal(proc, 'SIGKILL');
    await expect(expectExit(proc, { code: 0 })).rejects.toThrow(
      /expected pid \d+ \(graceful.ts\) to exit with code 0, but it was killed by SIGKILL \(last output: ready\)/,
    );
    await expect(expectExit(proc, { signal: 'SIGKILL' })).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    expect(() => sendSignal(proc, 'SIGTERM')).toThrow(
      /cannot send SIGTERM to pid \d+ \(graceful.ts\): it was killed by SIGKILL/,
    );
  });

  test('waitForExit is bounded: on timeout it kills the process and says so', async () => {
    const proc = await daemon(100);
    await expect(waitForExit(proc, { timeoutMs: 200 })).rejects.toThrow(
      /waitForExit timed out after 200 ms waiting for pid \d+ \(graceful.ts\) to exit; killed its process group with SIGKILL/,
    );
    expect(proc.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
