// This file is both the parent (under vitest) and the worker (run by node with the worker flag):
// the top-level runWorker call runs the worker and exits before any test is declared.
import { afterEach, describe, expect, test } from 'vitest';
import { expectExit, installOrphanGuard, runWorker, spawnManaged, waitForExit, waitForLine } from '../src/index.ts';
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

  test('one verb, three targets: a command, { node } and { self, role } resolve to the same kind of command line', async () => {
    const file = import.meta.filename;
    const self = spawnManaged({ self: file, role: 'echo' }, ['x'], { nodeArgs: ['--no-warnings'] });
    expect([self.command, self.name]).toEqual([process.execPath, 'echo']);
    expect(self.args).toEqual(['--no-warnings', file, '--faultline-worker=echo', 'x']);
    await waitForLine(self, /worker echo got x/);
    await expectExit(self, { code: 0 });
    const node = spawnManaged({ node: file }, ['y'], { nodeArgs: ['--no-warnings'] });
    expect([node.name, node.args]).toEqual(['self-spawn.test.ts', ['--no-warnings', file, 'y']]);
    await waitForExit(node); // not a worker: the file runs as a plain script (and fails outside vitest)
    const command = spawnManaged('/bin/sh', ['-c', 'exit 4']);
    expect([command.command, command.name]).toEqual(['/bin/sh', 'exit 4']);
    await expectExit(command, { code: 4 });
  });
});
