// A process group id is reused once its old group is empty: the orphan guard must not claim
// (and SIGKILL) an unrelated process that now leads a group with a dead tracked process's id.
// Simulated without cycling the pid space: a fresh detached process leads its own group, and the
// registry gets an entry for "an older process that had this pid and has exited".
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { findOrphans } from '../src/index.ts';
import { readProcStat } from '../src/process-table.ts';

const REGISTRY = Symbol.for('faultline.crash.registry');

test('the orphan check does not claim an unrelated process that reused a dead tracked pgid', async () => {
  findOrphans(); // makes sure the shared registry exists
  const registry = (globalThis as unknown as Record<symbol, Set<unknown>>)[REGISTRY]!;
  const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' });
  const pid = stranger.pid!;
  const exited = new Promise((resolve) => stranger.once('exit', resolve));
  let stat = readProcStat(pid);
  for (let i = 0; !stat && i < 100; i++) {
    await sleep(20);
    stat = readProcStat(pid);
  }
  expect(stat, `pid ${pid} did not show in /proc within 2 s`).toBeDefined();
  const deadTracked = {
    pid,
    pgid: pid,
    startTime: stat!.startTime - 100, // started (and exited) before the stranger got its pid
    persistent: false,
    describe: () => `pid ${pid} (an exited tracked process whose pid was reused)`,
    exited: Promise.resolve(),
  };
  registry.add(deadTracked);
  try {
    expect(stat!.pgid).toBe(pid); // the stranger leads its own group, like any detached child
    expect(findOrphans().filter((o) => o.pid === pid)).toEqual([]);
  } finally {
    registry.delete(deadTracked);
    stranger.kill('SIGKILL');
    await exited;
  }
});
