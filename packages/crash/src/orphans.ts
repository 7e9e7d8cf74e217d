// Orphan detection: after a test, nothing it started may still run. A tracked process's tree is
// found two ways, because each misses something: the ppid walk misses children re-parented after
// their parent died, and the process group misses children that moved to their own group.

import { CrashError } from './errors.ts';
import { groupReused, isProcessAlive, listProcesses, type ProcStat, readCmdline } from './process-table.ts';
import { type TrackedProcess, trackedProcesses, untrackProcess } from './registry.ts';

export interface Orphan {
  pid: number;
  ppid: number;
  pgid: number;
  cmdline: string;
  /** The tracked process whose tree it belongs to, e.g. "pid 123 (worker-0)". */
  startedBy: string;
}

export interface OrphanCheckOptions {
  /** Also check processes spawned with `persistent: true` (use in afterAll). Default false. */
  includePersistent?: boolean;
}

function live(stat: ProcStat): boolean {
  return stat.state !== 'Z' && stat.state !== 'X' && stat.pid !== process.pid;
}

/** Live processes that belong to the trees of processes started through the harness. */
export function findOrphans(options: OrphanCheckOptions = {}): Orphan[] {
  const tracked = trackedProcesses().filter((t) => options.includePersistent || !t.persistent);
  if (tracked.length === 0) return [];
  const table = listProcesses();
  const children = new Map<number, ProcStat[]>();
  for (const s of table) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const found = new Map<number, Orphan>();
  const add = (s: ProcStat, t: TrackedProcess) => {
    if (live(s) && !found.has(s.pid)) {
      found.set(s.pid, {
        pid: s.pid,
        ppid: s.ppid,
        pgid: s.pgid,
        cmdline: readCmdline(s.pid),
        startedBy: t.describe(),
      });
    }
  };
  for (const t of tracked) {
    // Anything that started before our process is a reused pid or pgid, not ours.
    const ours = (s: ProcStat) => s.startTime >= t.startTime;
    const root = table.find((s) => s.pid === t.pid && s.startTime === t.startTime);
    const queue = root ? [root] : [];
    while (queue.length > 0) {
      const s = queue.pop()!;
      add(s, t);
      for (const c of children.get(s.pid) ?? []) if (ours(c)) queue.push(c);
    }
    if (!groupReused(table, t)) for (const s of table) if (s.pgid === t.pgid && ours(s)) add(s, t);
  }
  return [...found.values()].sort((a, b) => a.pid - b.pid);
}

/** SIGKILLs the given processes and waits (bounded) until they are gone. Returns the ones that survived. */
export async function killOrphans(orphans: readonly Orphan[], timeoutMs = 5000): Promise<Orphan[]> {
  for (const o of orphans) {
    try {
      process.kill(o.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + timeoutMs;
  let left = [...orphans];
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    left = left.filter((o) => isProcessAlive(o.pid));
  }
  return left;
}

/**
 * Fails loudly if any process started through the harness (or any of its descendants) is
 * still alive: kills them all first, then throws listing them. Clears exited processes from
 * the registry, so each test is checked for what it started itself.
 */
export async function assertNoOrphans(options: OrphanCheckOptions = {}): Promise<void> {
  const orphans = findOrphans(options);
  const survivors = await killOrphans(orphans);
  // Reap our direct children (zombies until libuv collects them) before forgetting them.
  const tracked = trackedProcesses().filter((t) => options.includePersistent || !t.persistent);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(tracked.map((t) => t.exited)),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 5000);
    }),
  ]);
  clearTimeout(timer);
  for (const t of tracked) if (!isProcessAlive(t.pid, t.startTime)) untrackProcess(t);
  if (orphans.length === 0) return;
  const list = orphans.map(
    (o) => `  pid ${o.pid} (ppid ${o.ppid}, pgid ${o.pgid}) ${o.cmdline}  [tree of ${o.startedBy}]`,
  );
  const tail =
    survivors.length > 0
      ? `; ${survivors.length} survived SIGKILL: ${survivors.map((o) => o.pid).join(', ')}`
      : '; killed them with SIGKILL';
  throw new CrashError(
    'violation',
    `orphan check: ${orphans.length} process(es) started by this test are still running${tail}:\n${list.join('\n')}\n` +
      'Stop every process a test starts (waitForExit, killWave, or proc.kill) before the test ends.',
  );
}

/**
 * Registers an orphan check after every test. Pass vitest's `afterEach` (this package does not
 * import vitest): `installOrphanGuard(afterEach)`.
 */
export function installOrphanGuard(afterEach: (fn: () => Promise<void>, timeout?: number) => void): void {
  afterEach(() => assertNoOrphans(), 15_000);
}
