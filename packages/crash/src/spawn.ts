// Spawning the system under test or self-spawned workers, on execa. Every child gets its own
// process group (so a kill reaches its whole tree), is registered for the orphan guard, and keeps
// a bounded tail of its output for error messages and readiness waits.
import { execa, type Subprocess } from 'execa';
import { CrashError } from './errors.ts';
import type { PowerLoss } from './power-loss.ts';
import { groupReused, isProcessAlive, listProcesses, readProcStat } from './process-table.ts';
import { type TrackedProcess, trackProcess } from './registry.ts';
import { confirmLimits, type LimitedProcess, planLimits, type RlimitMethod } from './rlimit.ts';
import type { Rlimits } from './rlimit-spec.ts';
import { workerInvocation } from './worker.ts';

export interface ExitInfo {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type OutputStream = 'stdout' | 'stderr';

export interface ManagedSpawnOptions {
  /** A short label for messages and evidence, e.g. "worker-2"; defaults to the script's basename or the role. */
  name?: string;
  cwd?: string;
  /** Added to (not replacing) the parent's environment. */
  env?: Record<string, string | undefined>;
  /** 'ignore' (default) or 'pipe' to write to `proc.subprocess.stdin`. */
  stdin?: 'ignore' | 'pipe';
  /** Keep out of the per-test orphan check (a server shared by a file; stop it in afterAll). */
  persistent?: boolean;
  /** How many output lines per stream to keep for waitForLine and messages. Default 500. */
  keepLines?: number;
  /** Node children: extra Node flags placed before the script, e.g. ['--import', preload]. */
  nodeArgs?: readonly string[];
  /** Node children: journal their fs operations under this tracker's root, for a power loss after they die. */
  powerLoss?: PowerLoss;
}

/** spawnManaged's options with resource limits: the call then resolves once the kernel shows them. */
export interface LimitedSpawnOptions extends ManagedSpawnOptions {
  /** e.g. `{ nofile: 64 }`: a number sets soft = hard, `{ soft, hard? }` sets them apart. */
  rlimits: Rlimits;
  /** Default: 'preload' for Node children when `posix` loads, else 'prlimit'. */
  method?: RlimitMethod;
  /** Bound on the limits showing up in /proc. Default 5000 ms. */
  confirmTimeoutMs?: number;
  /** How often the child's use of its limits is sampled from /proc while it runs. Default 20 ms. */
  sampleMs?: number;
}

/**
 * What spawnManaged starts: an executable (the system under test, a shell tool...), a Node script
 * (`.js` or `.ts`, run by this process's Node binary), or a file (usually `import.meta.filename`)
 * as a self-spawned worker of `role` (see runWorker).
 */
export type SpawnTarget = string | { node: string } | { self: string; role: string };

/** The command line a target resolves to, before any resource-limit wrapper. */
export interface Invocation {
  command: string;
  args: string[];
  /** Whether the command is a Node binary (so a preload can reach it). */
  node: boolean;
  name: string;
  env: Record<string, string | undefined> | undefined;
}

type LineListener = (line: string, stream: OutputStream) => void;

/** A child started by the harness. */
export class ManagedProcess implements TrackedProcess {
  readonly pid: number;
  readonly pgid: number;
  readonly startTime: number;
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly persistent: boolean;
  /** The underlying execa subprocess (stdin, ipc, raw streams). */
  readonly subprocess: Subprocess;
  /** Resolves when the process exits (never rejects). */
  readonly exited: Promise<ExitInfo>;
  #exit: ExitInfo | undefined;
  readonly #lines: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  readonly #partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  readonly #listeners = new Set<LineListener>();
  readonly #keep: number;

  constructor(command: string, args: readonly string[], options: ManagedSpawnOptions = {}) {
    this.command = command;
    this.args = [...args];
    this.persistent = options.persistent ?? false;
    this.#keep = options.keepLines ?? 500;
    const subprocess = execa(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin ?? 'ignore',
      reject: false,
      buffer: false,
      // Own process group: kill(-pgid) reaches grandchildren; execa's cleanup still kills it if we exit.
      killDescendants: true,
      encoding: 'utf8',
    });
    this.subprocess = subprocess;
    // Spawn failures surface below as a missing pid; the promise itself must never go unhandled.
    subprocess.catch(() => undefined);
    if (subprocess.pid === undefined) {
      throw new CrashError(
        'usage',
        `spawn ${[command, ...args].join(' ')}: no pid (the command is missing or not executable; check the path and PATH)`,
      );
    }
    this.pid = subprocess.pid;
    this.pgid = subprocess.pid;
    this.startTime = readProcStat(this.pid)?.startTime ?? 0;
    this.name = options.name ?? basename(args.find((a) => !a.startsWith('-')) ?? command);
    // Not execa's promise: it settles only when stdio closes, which a surviving grandchild holding
    // the pipe can delay forever. The process-level 'exit' event is what "the process ended" means.
    this.exited = new Promise<ExitInfo>((resolve) => {
      subprocess.nodeChildProcess.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = subprocess[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (chunk: string) => this.#onData(stream, chunk));
      readable?.on('end', () => this.#flushPartial(stream));
    }
    trackProcess(this);
  }

  /** The exit status, or undefined while running. */
  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /**
   * Whether the process still runs code. `running` only says Node has not reaped it yet; a
   * child that exited a moment ago stays a zombie (state Z) until the event loop reaps it, and a
   * signal "delivered" to it acts on nothing.
   */
  get alive(): boolean {
    return this.#exit === undefined && isProcessAlive(this.pid, this.startTime || undefined);
  }

  /** Pids of the live (not zombie) members of this process's group, ours only (see groupReused). */
  liveGroupMembers(): number[] {
    const table = listProcesses();
    if (this.#exit && groupReused(table, this)) return [];
    return table.filter((p) => p.pgid === this.pgid && p.state !== 'Z' && p.state !== 'X').map((p) => p.pid);
  }

  /** Complete output lines kept so far (the last `keepLines`). */
  lines(stream: OutputStream): readonly string[] {
    return this.#lines[stream];
  }

  /** The last `maxChars` of a stream's output, for error messages. */
  tail(stream: OutputStream | 'both' = 'both', maxChars = 400): string {
    const pick = (s: OutputStream) => [...this.#lines[s], this.#partial[s]].join('\n').trim();
    const text = stream === 'both' ? [pick('stdout'), pick('stderr')].filter(Boolean).join('\n') : pick(stream);
    const clipped = text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
    return clipped || '(no output)';
  }

  /** Calls `listener` for every complete line from now on; returns the unsubscribe function. */
  onLine(listener: LineListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** "pid 123 (worker-0)", for messages. */
  describe(): string {
    return `pid ${this.pid} (${this.name})`;
  }

  /** "exited with code 1" / "was killed by SIGKILL" / "is still running". */
  describeExit(): string {
    return describeExit(this.#exit);
  }

  /**
   * Sends `signal` to the process group (default) or only the process. Returns false when the
   * target is already gone. Records no evidence: use sendSignal or killWave for that.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL', target: 'group' | 'process' = 'group'): boolean {
    // After exit only the group may remain; before exit the pid is still ours (not reaped).
    if (target === 'process' && this.#exit) return false;
    // After the leader was reaped its group id may belong to a new, unrelated group.
    if (target === 'group' && this.#exit && groupReused(listProcesses(), this)) return false;
    try {
      process.kill(target === 'group' ? -this.pgid : this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  #onData(stream: OutputStream, chunk: string): void {
    const parts = (this.#partial[stream] + chunk).split('\n');
    this.#partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.#push(stream, line);
  }

  #flushPartial(stream: OutputStream): void {
    if (this.#partial[stream] === '') return;
    const line = this.#partial[stream];
    this.#partial[stream] = '';
    this.#push(stream, line);
  }

  #push(stream: OutputStream, line: string): void {
    const kept = this.#lines[stream];
    kept.push(line);
    if (kept.length > this.#keep) kept.splice(0, kept.length - this.#keep);
    for (const listener of this.#listeners) listener(line, stream);
  }
}

export function describeExit(exit: ExitInfo | undefined): string {
  if (!exit) return 'is still running';
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function isNodeBinary(command: string): boolean {
  return command === process.execPath || /(^|\/)node(\.exe)?$/.test(command);
}

/** Resolves a target to its command line: Node flags before the script, the worker gate, the power-loss preload. */
function invocation(target: SpawnTarget, args: readonly string[], options: ManagedSpawnOptions): Invocation {
  const { nodeArgs = [], powerLoss } = options;
  let inv: Invocation;
  if (typeof target === 'string') {
    const node = isNodeBinary(target);
    const name = basename(args.find((a) => !a.startsWith('-')) ?? target);
    inv = { command: target, args: node ? [...nodeArgs, ...args] : [...args], node, name, env: options.env };
  } else if ('node' in target) {
    const script = target.node;
    inv = {
      command: process.execPath,
      args: [...nodeArgs, script, ...args],
      node: true,
      name: basename(script),
      env: options.env,
    };
  } else {
    const gate = workerInvocation(target.role);
    const all = [...nodeArgs, target.self, ...gate.args, ...args];
    inv = { command: process.execPath, args: all, node: true, name: target.role, env: { ...options.env, ...gate.env } };
  }
  if (powerLoss !== undefined) inv.env = { ...inv.env, ...powerLoss.env(inv.env?.NODE_OPTIONS) };
  if (options.name !== undefined) inv.name = options.name;
  return inv;
}

function start(inv: Invocation, options: ManagedSpawnOptions): ManagedProcess {
  return new ManagedProcess(inv.command, inv.args, { ...options, name: inv.name, env: inv.env });
}

/**
 * The one way to start a managed process: `spawnManaged('redis-server', ['--port', '0'])`,
 * `spawnManaged({ node: 'server.ts' }, args, { powerLoss })`,
 * `spawnManaged({ self: import.meta.filename, role: 'writer' }, args)`. With `rlimits` it resolves,
 * once the kernel shows the limits, to a LimitedProcess (the child is watched for hitting them).
 */
export function spawnManaged(
  target: SpawnTarget,
  args: readonly string[],
  options: LimitedSpawnOptions,
): Promise<LimitedProcess>;
export function spawnManaged(
  target: SpawnTarget,
  args?: readonly string[],
  options?: ManagedSpawnOptions,
): ManagedProcess;
export function spawnManaged(
  target: SpawnTarget,
  args: readonly string[] = [],
  options: ManagedSpawnOptions | LimitedSpawnOptions = {},
): ManagedProcess | Promise<LimitedProcess> {
  if (!('rlimits' in options) || options.rlimits === undefined)
    return start(invocation(target, args, options), options);
  const { rlimits, method, confirmTimeoutMs, sampleMs, ...rest } = options;
  return (async () => {
    const plan = planLimits(invocation(target, args, rest), rlimits, method);
    const proc = start(plan.invocation, rest);
    return confirmLimits(proc, plan, { confirmTimeoutMs, sampleMs });
  })();
}
