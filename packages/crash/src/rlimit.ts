// Resource limits on a child. Node children get them from a preload (`--import`) that calls
// setrlimit(2) through the `posix` addon before user code runs; anything else (or a Node without
// the addon) is wrapped in prlimit(1), which sets the limits and execs the command under the same
// pid. Either way the limits are read back from /proc/<pid>/limits before the call returns; the
// evidence comes later, from what the child did with them (rlimit-usage.ts): a limit counts only
// when the child hit it, and one equal to what it inherited never counts.
// `posix` is an optional dependency: it is native, and where it cannot build (no compiler, another
// Node ABI) or npm did not run its install script (npm 11 runs only allowed ones), it does not
// load and Node children fall back to prlimit(1) on their own.

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { recordNoEffect, reportCapability } from '@faultline/evidence';
import { execa } from 'execa';
import { CrashError } from './errors.ts';
import { waitFor } from './ready.ts';
import {
  type ResolvedLimit,
  RLIMITS_ENV,
  RLIMITS_REPORT_ENV,
  type RlimitResource,
  type Rlimits,
  resolveLimits,
} from './rlimit-spec.ts';
import { equalsInherited, type LimitUsage, watchLimits } from './rlimit-usage.ts';
import type { Invocation, ManagedProcess } from './spawn.ts';

export type RlimitMethod = 'preload' | 'prlimit';

/** Absolute path of the preload module, for `node --import` in commands you build yourself. */
export const rlimitPreloadPath: string = fileURLToPath(new URL('./rlimit-preload.js', import.meta.url));

/** A limit as the kernel reports it; null means unlimited. */
export interface LimitPair {
  soft: number | null;
  hard: number | null;
}

export type ProcLimits = Record<RlimitResource, LimitPair>;

const PROC_NAMES: Record<string, RlimitResource> = {
  'Max open files': 'nofile',
  'Max processes': 'nproc',
  'Max address space': 'as',
  'Max file size': 'fsize',
};

/** Reads /proc/<pid>/limits (the limits as the kernel enforces them). */
export function readProcLimits(pid: number): ProcLimits {
  try {
    return parseProcLimits(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch (error) {
    throw new CrashError(
      'unavailable',
      `cannot read /proc/${pid}/limits (${(error as Error).message}); is the process alive, is this Linux?`,
    );
  }
}

/** Parses the text of a /proc/<pid>/limits file. */
export function parseProcLimits(text: string): ProcLimits {
  const out: Partial<ProcLimits> = {};
  const value = (s: string) => (s === 'unlimited' ? null : Number(s));
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const resource = m ? PROC_NAMES[m[1]!] : undefined;
    if (m && resource) out[resource] = { soft: value(m[2]!), hard: value(m[3]!) };
  }
  for (const r of Object.values(PROC_NAMES)) {
    if (!out[r])
      throw new CrashError('unavailable', `no "${r}" row in limits text: ${JSON.stringify(text.slice(0, 120))}`);
  }
  return out as ProcLimits;
}

/**
 * Why `posix` does not load, said so a user knows what to do: the common causes get a fix, any
 * other error is quoted (one line, bounded).
 */
export function explainPosixError(message: string): string {
  if (/Cannot find module 'posix'/.test(message)) return 'posix is not installed (an optional dependency)';
  if (/compiled against a different Node\.js version/.test(message)) {
    return 'posix was built for another Node.js version (`npm rebuild posix`)';
  }
  if (/unable to load the node-posix extension module/.test(message)) {
    return 'posix was never built: npm did not run its install script (`npm install-scripts approve posix`, then `npm rebuild posix`; needs a C++ toolchain)';
  }
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** Why `posix` does not load (see explainPosixError), or null when it loads. */
let posixLoadError: string | null | undefined;

function posixProblem(): string | null {
  if (posixLoadError === undefined) {
    try {
      createRequire(import.meta.url)('posix');
      posixLoadError = null;
    } catch (error) {
      posixLoadError = explainPosixError(String(error instanceof Error ? error.message : error));
    }
  }
  return posixLoadError;
}

/** Whether the `posix` addon loads under this Node (it is native and built per Node ABI). */
export function posixAvailable(): boolean {
  return posixProblem() === null;
}

let prlimitRuns: boolean | undefined;

function prlimitAvailable(): boolean {
  if (prlimitRuns === undefined) {
    try {
      execFileSync('prlimit', ['--version'], { stdio: 'ignore', timeout: 5000 });
      prlimitRuns = true;
    } catch {
      prlimitRuns = false;
    }
  }
  return prlimitRuns;
}

/** How this machine puts resource limits on a Node child, as `faultline doctor` and the results show it. */
export interface RlimitSupport {
  /** What spawnManaged with rlimits uses for a Node command when no method is asked for. */
  method: RlimitMethod;
  /** `preload via posix addon`, `prlimit(1) fallback (posix addon not built)`, or why neither works. */
  summary: string;
  /** Why the addon does not load (e.g. built for another Node ABI, or not built at all). */
  posixError?: string;
  /** Whether prlimit(1) runs here: the fallback, non-Node commands and `applyRlimits` need it. */
  prlimit: boolean;
}

/** Which method spawnManaged with rlimits picks for Node children here, and why. */
export function rlimitSupport(): RlimitSupport {
  const posixError = posixProblem();
  const prlimit = prlimitAvailable();
  if (posixError === null) return { method: 'preload', summary: 'preload via posix addon', prlimit };
  const summary = prlimit
    ? 'prlimit(1) fallback (posix addon not built)'
    : 'unavailable (posix addon not built, prlimit(1) not found: install util-linux)';
  return { method: 'prlimit', summary, posixError, prlimit };
}

let capabilityReported = false;

/** Records in the run's capabilities (once per process) how rlimits are applied here. */
function reportRlimitCapability(): void {
  if (capabilityReported) return;
  capabilityReported = true;
  reportCapability('rlimits', rlimitSupport().summary);
}

function prlimitArgs(limits: readonly ResolvedLimit[]): string[] {
  return limits.map((l) => `--${l.resource}=${l.soft}:${l.hard ?? ''}`);
}

function matches(actual: LimitPair, want: ResolvedLimit): boolean {
  return actual.soft === want.soft && (want.hard === undefined || actual.hard === want.hard);
}

/** Reads the limits the preload reported, or /proc/<pid>/limits when there is no report. */
function readApplied(pid: number, report: string | undefined): ProcLimits | undefined {
  if (report === undefined) return readProcLimits(pid);
  // Only the report proves the preload ran: /proc may already match an inherited limit before it
  // did, and returning then would leave the report it writes a moment later behind.
  return existsSync(report) ? parseProcLimits(readFileSync(report, 'utf8')) : undefined;
}

/**
 * Waits until the child's limits are known. The preload reports /proc/self/limits right after
 * setrlimit (so even a child that exits at once is confirmed); otherwise /proc/<pid>/limits is
 * polled. The report is removed here and again at the child's exit, whichever comes last.
 */
async function confirm(
  proc: ManagedProcess,
  limits: readonly ResolvedLimit[],
  report: string | undefined,
  timeoutMs: number,
): Promise<ProcLimits> {
  const what = `${limits.map((l) => `RLIMIT_${l.resource.toUpperCase()}=${l.soft}`).join(', ')} to show in ${report === undefined ? `/proc/${proc.pid}/limits` : `the preload's report ${report}`}`;
  if (report !== undefined) void proc.exited.then(() => rmSync(report, { force: true }));
  try {
    return await waitFor(
      what,
      () => {
        const actual = readApplied(proc.pid, report);
        return actual !== undefined && limits.every((l) => matches(actual[l.resource], l)) && actual;
      },
      { timeoutMs, intervalMs: 10, process: proc },
    );
  } catch (error) {
    proc.kill('SIGKILL', 'group');
    await proc.exited;
    throw error;
  } finally {
    if (report !== undefined) rmSync(report, { force: true });
  }
}

/** The resources whose requested limit equals what this process (and so the child) has: no-ops. */
function inheritedLimits(limits: readonly ResolvedLimit[]): Set<RlimitResource> {
  const own = readProcLimits(process.pid);
  return new Set(limits.filter((l) => equalsInherited(l, own[l.resource])).map((l) => l.resource));
}

export interface LimitedProcess {
  proc: ManagedProcess;
  /** The limits read back from /proc/<pid>/limits once applied. */
  applied: ProcLimits;
  method: RlimitMethod;
  /** How close the child has come to each limit so far (peaks sampled from /proc, hits seen). */
  usage(): LimitUsage[];
  /**
   * Resolves after the child exited and its rlimit evidence was recorded: a hit as it was seen,
   * a limit that did not act (or equals the inherited one) as a "did not act" entry.
   */
  settled: Promise<LimitUsage[]>;
}

/** The method for this command: the one asked for if it can work here, else the best one available. */
function chooseMethod(command: string, node: boolean, wanted: RlimitMethod | undefined): RlimitMethod {
  const method: RlimitMethod = wanted ?? (node && posixAvailable() ? 'preload' : 'prlimit');
  if (method === 'preload' && !node) {
    throw new CrashError('usage', `spawnManaged: method 'preload' needs a Node command, got ${command}; use 'prlimit'`);
  }
  if (method === 'preload' && !posixAvailable()) {
    throw new CrashError(
      'unavailable',
      `spawnManaged: method 'preload' needs the posix addon, which does not load here (${posixProblem()}); omit method to fall back to prlimit(1)`,
    );
  }
  if (method === 'prlimit' && !prlimitAvailable()) {
    throw new CrashError('unavailable', `spawnManaged: ${rlimitSupport().summary}; cannot limit ${command}`);
  }
  return method;
}

/** How spawnManaged starts an invocation under limits, decided before the child exists. */
export interface LimitPlan {
  /** The command line to start: the preload added to Node's flags, or wrapped in prlimit(1). */
  invocation: Invocation;
  limits: ResolvedLimit[];
  method: RlimitMethod;
  /** Where the preload reports the limits it set (preload only). */
  report: string | undefined;
}

/**
 * Checks the limits and picks the method for an invocation. A Node child gets the preload
 * (`--import`, before its own Node flags); anything else runs under prlimit(1), which execs the
 * command under the same pid. With `as`, run a .js script or use method 'prlimit': Node's
 * TypeScript stripper reserves gigabytes of address space when it loads, after the preload set the limit.
 */
export function planLimits(inv: Invocation, limits: Rlimits, wanted: RlimitMethod | undefined): LimitPlan {
  const resolved = resolveLimits(limits);
  reportRlimitCapability();
  const method = chooseMethod(inv.command, inv.node, wanted);
  if (method === 'prlimit') {
    const wrapped = { ...inv, command: 'prlimit', args: [...prlimitArgs(resolved), '--', inv.command, ...inv.args] };
    return { invocation: wrapped, limits: resolved, method, report: undefined };
  }
  const report = join(tmpdir(), `faultline-rlimits-${process.pid}-${randomUUID()}.txt`);
  const env = { ...inv.env, [RLIMITS_ENV]: JSON.stringify(resolved), [RLIMITS_REPORT_ENV]: report };
  const args = ['--import', pathToFileURL(rlimitPreloadPath).href, ...inv.args];
  return { invocation: { ...inv, args, env }, limits: resolved, method, report };
}

/** Watches a child started from a plan and resolves once the kernel shows its limits. */
export async function confirmLimits(
  proc: ManagedProcess,
  plan: LimitPlan,
  options: { confirmTimeoutMs?: number | undefined; sampleMs?: number | undefined },
): Promise<LimitedProcess> {
  const { limits, method, report } = plan;
  const how = method === 'preload' ? 'posix setrlimit preload' : 'prlimit(1)';
  // Watch from the start: a quick child can hit its limit and say so before the read-back returns.
  const watch = watchLimits(proc, limits, inheritedLimits(limits), {
    method: how,
    ...(options.sampleMs ? { sampleMs: options.sampleMs } : {}),
  });
  const applied = await confirm(proc, limits, report, options.confirmTimeoutMs ?? 5000);
  return { proc, applied, method, usage: watch.usage, settled: watch.settled };
}

/**
 * Changes the limits of a running process with `prlimit --pid` and reads them back. Evidence as
 * for spawnManaged with rlimits: a ManagedProcess is watched until it exits (`settled`); a bare pid cannot be
 * watched, so it gets only a "did not act" entry saying so.
 */
export async function applyRlimits(
  target: ManagedProcess | number,
  limits: Rlimits,
): Promise<ProcLimits & { settled?: Promise<LimitUsage[]> }> {
  const resolved = resolveLimits(limits);
  const pid = typeof target === 'number' ? target : target.pid;
  reportRlimitCapability();
  const before = readProcLimits(pid);
  const inherited = new Set(resolved.filter((l) => equalsInherited(l, before[l.resource])).map((l) => l.resource));
  const result = await execa('prlimit', ['--pid', String(pid), ...prlimitArgs(resolved)], { reject: false });
  if (result.failed) {
    throw new CrashError(
      'unavailable',
      `applyRlimits: prlimit --pid ${pid} failed (${result.exitCode ?? result.code}): ${String(result.stderr || result.message).trim()}`,
    );
  }
  const read = readProcLimits(pid);
  const wrong = resolved.filter((l) => !matches(read[l.resource], l));
  if (wrong.length > 0) {
    throw new CrashError(
      'unavailable',
      `applyRlimits: /proc/${pid}/limits does not show ${wrong.map((l) => `${l.resource}=${l.soft}`).join(', ')} after prlimit`,
    );
  }
  if (typeof target !== 'number') {
    return { ...read, settled: watchLimits(target, resolved, inherited, { method: 'prlimit --pid' }).settled };
  }
  for (const l of resolved) {
    const upper = l.resource.toUpperCase();
    recordNoEffect({
      kind: 'rlimit',
      name: upper,
      detail: `rlimit ${upper}=${l.soft} set on pid ${pid}, which is not a ManagedProcess: its use of the limit cannot be watched`,
      source: '@faultline/crash',
      attributes: { pid, resource: upper, soft: String(l.soft), method: 'prlimit --pid' },
    });
  }
  return read;
}
