// This file is both the parent (under vitest) and the worker (run by node with the worker flag):
// the top-level runWorker call runs the worker and exits before any test is declared.
import { afterEach, describe, expect, test } from 'vitest';
import { expectExit, installOrphanGuard, runWorker, spawnManaged, waitForLine } from '../src/index.ts';
import { workerRole } from '../src/worker.ts';

await runWorker('echo', (args) => {
  console.log(`worker ${workerRole()} got ${args.join(',')}`);
});

installOrphanGuard(afterEach);

describe('self-spawned workers', () => {
  test('a test file can spawn itself as a worker', async () => {
    const proc = spawnManaged({ self: import.meta.filename, role: 'echo' }, ['a', 'b']);
    await waitForLine(proc, /worker echo got a,b/);
    await expectExit(proc, { code: 0 });
  });

  test('the worker flag alone (no env var) refuses to start', async () => {
    const proc = spawnManaged({ node: import.meta.filename }, ['--faultline-worker=echo']);
    await expectExit(proc, { code: 1 });
    expect(proc.tail('stderr', 2000)).toMatch(
      /--faultline-worker=echo is reserved for workers spawned by @faultline\/crash/,
    );
  });
});
