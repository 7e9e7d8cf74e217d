// Every process the harness starts is registered here so the orphan guard can find what a test
// left behind. The registry lives on a global symbol: vitest may load this module twice (its
// module graph and node_modules), and both copies must see the same processes.

/** What the orphan guard needs to know about a started process. */
export interface TrackedProcess {
  readonly pid: number;
  /** Its own process group (spawned detached), so the whole tree can be found and killed. */
  readonly pgid: number;
  /** /proc start time in clock ticks, to tell our pid from a reused one. */
  readonly startTime: number;
  /** Excluded from the per-test orphan check (a server shared by a whole file). */
  readonly persistent: boolean;
  describe(): string;
  /** Resolves once the process has exited and been reaped. */
  readonly exited: Promise<unknown>;
}

const SLOT = Symbol.for('faultline.crash.registry');

function registry(): Set<TrackedProcess> {
  const g = globalThis as typeof globalThis & { [SLOT]?: Set<TrackedProcess> };
  g[SLOT] ??= new Set();
  return g[SLOT];
}

export function trackProcess(p: TrackedProcess): void {
  registry().add(p);
}

export function untrackProcess(p: TrackedProcess): void {
  registry().delete(p);
}

/** Processes started by this process through the harness and not yet cleared by an orphan check. */
export function trackedProcesses(): TrackedProcess[] {
  return [...registry()];
}
