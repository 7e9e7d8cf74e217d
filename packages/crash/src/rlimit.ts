// Resource limits on a child. Node children get them from a preload (`--import`) that calls
// setrlimit(2) through the `posix` addon before user code runs; anything else (or a Node without
// the addon) is wrapped in prlimit(1), which sets the limits and execs the command under the same
// pid. Either way the limits are read back from /proc/<pid>/limits and recorded as evidence.
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
import { recordFault, reportCapability } from '@faultline/evidence';
import { execa } from 'execa';
import { waitFor } from './ready.ts';
import {
  type ResolvedLimit,
  RLIMITS_ENV,
  RLIMITS_REPORT_ENV,
  RlimitError,
  type RlimitResource,
  type Rlimits,
  resolveLimits,
} from './rlimit-spec.ts';
import { ManagedProcess, type NodeSpawnOptions, type SpawnOptions } from './spawn.ts';

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
    throw new RlimitError(
      'proc',
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
    if (!out[r]) throw new RlimitError('proc', `no "${r}" row in limits text: ${JSON.stringify(text.slice(0, 120))}`);
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
  /** What spawnLimited uses for a Node command when no method is asked for. */
  method: RlimitMethod;
  /** `preload via posix addon`, `prlimit(1) fallback (posix addon not built)`, or why neither works. */
  summary: string;
  /** Why the addon does not load (e.g. built for another Node ABI, or not built at all). */
  posixError?: string;
  /** Whether prlimit(1) runs here: the fallback, non-Node commands and `applyRlimits` need it. */
  prlimit: boolean;
}

/** Which method spawnLimited picks for Node children here, and why. */
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

function fmt(n: number | null): string {
  return n === null ? 'unlimited' : String(n);
}

/**
 * Waits until the child's limits are known, then records one evidence entry per limit. The preload
 * reports /proc/self/limits right after setrlimit (so even a child that exits at once is
 * confirmed); otherwise /proc/<pid>/limits is polled.
 */
async function confirm(
  proc: ManagedProcess,
  limits: readonly ResolvedLimit[],
  method: string,
  report: string | undefined,
  timeoutMs: number,
): Promise<ProcLimits> {
  const what = `${limits.map((l) => `RLIMIT_${l.resource.toUpperCase()}=${l.soft}`).join(', ')} to show in /proc/${proc.pid}/limits`;
  try {
    const applied = await waitFor(
      what,
      () => {
        const reported = report !== undefined && existsSync(report) ? readFileSync(report, 'utf8') : '';
        const actual = reported ? parseProcLimits(reported) : readProcLimits(proc.pid);
        return limits.every((l) => matches(actual[l.resource], l)) && actual;
      },
      { timeoutMs, intervalMs: 10, process: proc },
    );
    recordLimits(proc.pid, proc.name, limits, applied, method);
    return applied;
  } catch (error) {
    proc.kill('SIGKILL', 'group');
    await proc.exited;
    throw error;
  } finally {
    if (report !== undefined) rmSync(report, { force: true });
  }
}

function recordLimits(pid: number, name: string, limits: readonly ResolvedLimit[], read: ProcLimits, method: string) {
  for (const l of limits) {
    const { soft, hard } = read[l.resource];
    const upper = l.resource.toUpperCase();
    recordFault({
      kind: 'rlimit',
      name: `${upper}`,
      detail: `rlimit ${upper}=${fmt(soft)} (hard ${fmt(hard)}) applied to pid ${pid} (${name}) via ${method}`,
      source: '@faultline/crash',
      attributes: { pid, resource: upper, soft: fmt(soft), hard: fmt(hard), method },
    });
  }
}

export interface LimitedSpawnOptions extends NodeSpawnOptions {
  /** Default: 'preload' for Node commands when `posix` loads, else 'prlimit'. */
  method?: RlimitMethod;
  /** Bound on the limits showing up in /proc. Default 5000 ms. */
  confirmTimeoutMs?: number;
}

export interface LimitedProcess {
  proc: ManagedProcess;
  /** The limits read back from /proc/<pid>/limits once applied. */
  applied: ProcLimits;
  method: RlimitMethod;
}

function isNodeBinary(command: string): boolean {
  return command === process.execPath || /(^|\/)node(\.exe)?$/.test(command);
}

/** The method for this command: the one asked for if it can work here, else the best one available. */
function chooseMethod(command: string, node: boolean, wanted: RlimitMethod | undefined): RlimitMethod {
  const method: RlimitMethod = wanted ?? (node && posixAvailable() ? 'preload' : 'prlimit');
  if (method === 'preload' && !node) {
    throw new RlimitError(
      'method',
      `spawnLimited: method 'preload' needs a Node command, got ${command}; use 'prlimit'`,
    );
  }
  if (method === 'preload' && !posixAvailable()) {
    throw new RlimitError(
      'unavailable',
      `spawnLimited: method 'preload' needs the posix addon, which does not load here (${posixProblem()}); omit method to fall back to prlimit(1)`,
    );
  }
  if (method === 'prlimit' && !prlimitAvailable()) {
    throw new RlimitError('unavailable', `spawnLimited: ${rlimitSupport().summary}; cannot limit ${command}`);
  }
  return method;
}

/**
 * Starts `command` under resource limits and resolves once the kernel reports them for the child.
 * For a Node script: `spawnLimited(process.execPath, [script], { nofile: 64 })`. With `as`, run a
 * .js script or use method 'prlimit': Node's TypeScript stripper reserves gigabytes of address
 * space when it loads, after the preload has set the limit.
 */
export async function spawnLimited(
  command: string,
  args: readonly string[],
  limits: Rlimits,
  options: LimitedSpawnOptions = {},
): Promise<LimitedProcess> {
  const resolved = resolveLimits(limits);
  const { method: wanted, confirmTimeoutMs = 5000, nodeArgs = [], ...spawnOptions } = options;
  const node = isNodeBinary(command);
  reportRlimitCapability();
  const method = chooseMethod(command, node, wanted);
  const name = options.name ?? (args.find((a) => !a.startsWith('-')) ?? command).split('/').pop()!;
  const base: SpawnOptions = { ...spawnOptions, name };
  let proc: ManagedProcess;
  let report: string | undefined;
  if (method === 'preload') {
    report = join(tmpdir(), `faultline-rlimits-${process.pid}-${randomUUID()}.txt`);
    proc = new ManagedProcess(command, ['--import', pathToFileURL(rlimitPreloadPath).href, ...nodeArgs, ...args], {
      ...base,
      env: { ...base.env, [RLIMITS_ENV]: JSON.stringify(resolved), [RLIMITS_REPORT_ENV]: report },
    });
  } else {
    const inner = node ? [...nodeArgs, ...args] : [...args];
    proc = new ManagedProcess('prlimit', [...prlimitArgs(resolved), '--', command, ...inner], base);
  }
  const how = method === 'preload' ? 'posix setrlimit preload' : 'prlimit(1)';
  const applied = await confirm(proc, resolved, how, report, confirmTimeoutMs);
  return { proc, applied, method };
}

/** Changes the limits of a running process with `prlimit --pid`, reads them back and records evidence. */
export async function applyRlimits(target: ManagedProcess | number, limits: Rlimits): Promise<ProcLimits> {
  const resolved = resolveLimits(limits);
  const pid = typeof target === 'number' ? target : target.pid;
  reportRlimitCapability();
  const name = typeof target === 'number' ? `pid ${pid}` : target.name;
  const result = await execa('prlimit', ['--pid', String(pid), ...prlimitArgs(resolved)], { reject: false });
  if (result.failed) {
    throw new RlimitError(
      'apply',
      `applyRlimits: prlimit --pid ${pid} failed (${result.exitCode ?? result.code}): ${String(result.stderr || result.message).trim()}`,
    );
  }
  const read = readProcLimits(pid);
  const wrong = resolved.filter((l) => !matches(read[l.resource], l));
  if (wrong.length > 0) {
    throw new RlimitError(
      'apply',
      `applyRlimits: /proc/${pid}/limits does not show ${wrong.map((l) => `${l.resource}=${l.soft}`).join(', ')} after prlimit`,
    );
  }
  recordLimits(pid, name, resolved, read, 'prlimit --pid');
  return read;
}
