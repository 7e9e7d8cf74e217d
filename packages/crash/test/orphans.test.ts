import { afterEach, describe, expect, test } from 'vitest';
import {
  assertNoOrphans,
  findOrphans,
  installOrphanGuard,
  isProcessAlive,
  spawnManaged,
  waitForLine,
} from '../src/index.ts';
import { fixture } from './helpers.ts';

installOrphanGuard(afterEach);

async function tree() {
  const parent = spawnManaged({ self: fixture('workers.ts'), role: 'tree' }, [], { name: 'tree' });
  const grandchild = Number((await waitForLine(parent, /grandchild (\d+)/))[1]);
  return { parent, grandchild };
}

describe('orphan detection', () => {
  test('a test that leaves a process tree running fails loudly, and the tree is killed', async () => {
    const { parent, grandchild } = await tree();
    expect(findOrphans().map((o) => o.pid)).toEqual([parent.pid, grandchild].sort((a, b) => a - b));
    const error = await assertNoOrphans().catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'CrashError', kind: 'violation' });
    expect((error as Error).message).toMatch(
      /orphan check: 2 process\(es\) started by this test are still running; killed them with SIGKILL/,
    );
    expect((error as Error).message).toContain(`pid ${grandchild} (ppid ${parent.pid}, pgid ${parent.pid})`);
    expect((error as Error).message).toContain('[tree of pid');
    expect(isProcessAlive(grandchild)).toBe(false);
    await parent.exited;
    expect(findOrphans()).toEqual([]);
  });

  test('a grandchild re-parented after its parent was killed alone is still found (process group)', async () => {
    const { parent, grandchild } = await tree();
    parent.kill('SIGKILL', 'process');
    await parent.exited;
    const orphans = findOrphans();
    expect(orphans.map((o) => o.pid)).toEqual([grandchild]);
    expect(orphans[0]!.ppid).not.toBe(parent.pid);
    await expect(assertNoOrphans()).rejects.toThrow(/1 process\(es\) started by this test are still running/);
    expect(isProcessAlive(grandchild)).toBe(false);
  });

  test('killing the whole group leaves nothing behind', async () => {
    const { parent, grandchild } = await tree();
    parent.kill('SIGKILL', 'group');
    await parent.exited;
    await assertNoOrphans();
    expect(isProcessAlive(grandchild)).toBe(false);
  });

  test('persistent processes are exempt from the per-test check but not from the final one', async () => {
    const server = spawnManaged({ self: fixture('workers.ts'), role: 'idle' }, [], {
      name: 'shared-server',
      persistent: true,
    });
    await waitForLine(server, 'started');
    await assertNoOrphans();
    expect(server.running).toBe(true);
    await expect(assertNoOrphans({ includePersistent: true })).rejects.toThrow(/\[tree of pid \d+ \(shared-server\)\]/);
    expect(server.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  test('installOrphanGuard registers an afterEach hook without importing vitest', () => {
    const hooks: Array<() => Promise<void>> = [];
    installOrphanGuard((fn) => hooks.push(fn));
    expect(hooks).toHaveLength(1);
    return hooks[0]!();
  });
});
