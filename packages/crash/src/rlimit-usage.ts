// How close a limited child came to its limits. A limit is evidence only when it acted: the child
// hit it (an errno for it in the child's output, the peak reaching it, SIGXFSZ). Use is sampled
// from /proc while the child runs, on a fixed period that stops at its exit, so a child that never
// came near its limit is reported with its real peak as a "did not act" entry that covers nothing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { type EvidenceSink, evidenceTarget, recordFault, recordNoEffect } from '@faultline/evidence';
import { CrashError } from './errors.ts';
import type { ResolvedLimit, RlimitResource } from './rlimit-spec.ts';
import type { ManagedProcess } from './spawn.ts';

/** What a limited child did with one of its limits. */
export interface LimitUsage {
  resource: RlimitResource;
  /** The soft limit the child ran under. */
  limit: number;
  /**
   * The highest use sampled: descriptors (nofile), tasks (threads) of its process tree (nproc), bytes of
   * address space (as: the kernel's VmPeak) or of its largest open regular file (fsize);
   * null when it never lived long enough to be sampled.
   */
  peak: number | null;
  unit: 'fds' | 'tasks' | 'bytes';
  /** Whether the child hit the limit (see `hitBy`). */
  hit: boolean;
  /** How the hit was seen: `EMFILE in its output`, `peak reached the limit`, `killed by SIGXFSZ`. */
  hitBy?: string;
  /** The limit equals the one the child inherited: it changed nothing, so it never counts as acting. */
  inherited: boolean;
}

interface Meter {
  unit: LimitUsage['unit'];
  /** Errors the child reports when it runs into this limit. */
  errors: RegExp;
  errorNames: string;
  sample(proc: ManagedProcess): number;
}

const METERS: Record<RlimitResource, Meter> = {
  nofile: {
    unit: 'fds',
    errors: /\b(EMFILE|ENFILE)\b/,
    errorNames: 'EMFILE/ENFILE',
    sample: (p) => readdirSync(`/proc/${p.pid}/fd`).length,
  },
  nproc: {
    unit: 'tasks',
    errors: /\bEAGAIN\b|Resource temporarily unavailable/,
    errorNames: 'EAGAIN',
    sample: (p) => treeTasks(p.pid),
  },
  as: {
    unit: 'bytes',
    errors: /\bENOMEM\b|allocation failed|out of memory/i,
    errorNames: 'ENOMEM',
    sample: (p) => statusNumber(p.pid, 'VmPeak') * 1024, // VmPeak is in kB
  },
  fsize: { unit: 'bytes', errors: /\bEFBIG\b/, errorNames: 'EFBIG', sample: (p) => largestOpenFile(p.pid) },
};

/** A numeric field of /proc/<pid>/status (the number only, whatever its unit). */
function statusNumber(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new CrashError('unavailable', `no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/**
 * Tasks of the child's process tree: threads count against RLIMIT_NPROC too. Walks
 * /proc/<pid>/task/<tid>/children (bounded by the tree's size), not the whole process table.
 */
function treeTasks(root: number): number {
  let tasks = 0;
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // exited while we walked
    }
    tasks += tids.length;
    for (const tid of tids) {
      try {
        const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (kids) todo.push(...kids.split(' ').map(Number));
      } catch {
        // the thread ended while we walked
      }
    }
  }
  return tasks;
}

function largestOpenFile(pid: number): number {
  let largest = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const st = statSync(`/proc/${pid}/fd/${fd}`);
      if (st.isFile() && st.size > largest) largest = st.size;
    } catch {
      // closed between the listing and the stat
    }
  }
  return largest;
}

export interface WatchOptions {
  /** Sampling period while the child runs. Default 20 ms. */
  sampleMs?: number;
  /** How the limit was applied, for the evidence detail (`posix setrlimit preload`, `prlimit(1)`...). */
  method: string;
  /** Bound on waiting for the child's output to close after its exit (errors printed last). Default 500 ms. */
  drainMs?: number;
}

/** What the child inherited, per resource: a limit equal to it changes nothing. */
export function equalsInherited(
  limit: ResolvedLimit,
  inherited: { soft: number | null; hard: number | null },
): boolean {
  return inherited.soft === limit.soft && (limit.hard === undefined || inherited.hard === limit.hard);
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? 'unlimited' : String(n));

/**
 * Watches `proc`'s use of `limits` until it exits and records, per limit, either that the child
 * hit it (once, when first seen, so it lands on the test that is running) or, at exit, that it did
 * not act and how close the child came. Resolves with the usage once everything is recorded.
 */
export function watchLimits(
  proc: ManagedProcess,
  limits: readonly ResolvedLimit[],
  inherited: ReadonlySet<RlimitResource>,
  options: WatchOptions,
): { usage: () => LimitUsage[]; settled: Promise<LimitUsage[]> } {
  const { sampleMs = 20, drainMs = 500, method } = options;
  const usage = limits.map(
    (l): LimitUsage => ({
      resource: l.resource,
      limit: l.soft,
      peak: null,
      unit: METERS[l.resource].unit,
      hit: false,
      inherited: inherited.has(l.resource),
    }),
  );
  const hardOf = new Map(limits.map((l) => [l.resource, l.hard]));
  // The test that started the child: a hit seen by the sampler, or the exit of a child that
  // outlives that test's code, still records there.
  const target = evidenceTarget();
  const who = `pid ${proc.pid} (${proc.name})`;

  const markHit = (u: LimitUsage, how: string): void => {
    if (u.hit) return;
    u.hit = true;
    u.hitBy = how;
    if (u.inherited) return; // the child would have hit it without us: not this limit's effect
    const upper = u.resource.toUpperCase();
    recordFault(
      {
        kind: 'rlimit',
        name: upper,
        detail: `rlimit ${upper}=${u.limit} (hard ${fmt(hardOf.get(u.resource) ?? null)}) hit by ${who}: ${how}; peak ${u.peak ?? 'unknown'} of ${u.limit} ${u.unit} (via ${method})`,
        source: '@faultline/crash',
        attributes: attributes(proc, u, method),
      },
      { target },
    );
  };

  const sample = (): void => {
    for (const u of usage) {
      let now: number;
      try {
        now = METERS[u.resource].sample(proc);
      } catch {
        continue; // the process is gone or /proc moved on: keep the last peak
      }
      if (u.peak === null || now > u.peak) u.peak = now;
      if (u.peak >= u.limit) markHit(u, 'peak reached the limit');
    }
  };

  const unsubscribe = proc.onLine((line) => {
    for (const u of usage) {
      const m = METERS[u.resource].errors.exec(line);
      if (m) markHit(u, `${m[0]} in its output`);
    }
  });
  sample();
  const timer = setInterval(sample, sampleMs);
  timer.unref();

  const settled = proc.exited.then(async (exit) => {
    clearInterval(timer);
    if (exit.signal === 'SIGXFSZ') for (const u of usage) if (u.resource === 'fsize') markHit(u, 'killed by SIGXFSZ');
    await outputClosed(proc, drainMs);
    unsubscribe();
    for (const u of usage) if (!u.hit || u.inherited) recordIdle(proc, u, method, hardOf.get(u.resource), target);
    return usage.map((u) => ({ ...u }));
  });
  return { usage: () => usage.map((u) => ({ ...u })), settled };
}

function attributes(proc: ManagedProcess, u: LimitUsage, method: string) {
  return {
    pid: proc.pid,
    resource: u.resource.toUpperCase(),
    soft: String(u.limit),
    ...(u.peak === null ? {} : { peak: u.peak }),
    unit: u.unit,
    hit: u.hit,
    ...(u.hitBy ? { hitBy: u.hitBy } : {}),
    inherited: u.inherited,
    method,
  };
}

function recordIdle(
  proc: ManagedProcess,
  u: LimitUsage,
  method: string,
  hard: number | undefined,
  target: EvidenceSink | undefined,
): void {
  const upper = u.resource.toUpperCase();
  const why = u.inherited
    ? `equal to the limit it inherited (soft ${u.limit}, hard ${fmt(hard ?? null)}), so it changes nothing`
    : `peak ${u.peak === null ? 'never sampled' : u.peak} of ${u.limit} ${u.unit}, no ${METERS[u.resource].errorNames} seen`;
  recordNoEffect(
    {
      kind: 'rlimit',
      name: upper,
      detail: `rlimit ${upper}=${u.limit} did not act on pid ${proc.pid} (${proc.name}): ${why}`,
      source: '@faultline/crash',
      attributes: { ...attributes(proc, u, method), ...(hard === undefined ? {} : { hard: String(hard) }) },
    },
    { target },
  );
}

/** Waits (bounded by `ms`) for the child's stdout and stderr to close, so errors it printed last are seen. */
async function outputClosed(proc: ManagedProcess, ms: number): Promise<void> {
  const streams = [proc.subprocess.stdout, proc.subprocess.stderr].filter(
    (s) => s !== null && !s.readableEnded && !s.closed,
  );
  if (streams.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  const ended = Promise.all(streams.map((s) => new Promise<void>((resolve) => s!.once('close', resolve))));
  await Promise.race([ended, timeout]);
  clearTimeout(timer);
}
