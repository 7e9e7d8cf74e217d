// Signal tests: send a signal (with evidence), wait for the exit within a deadline, assert how the
// process ended, and the "second signal exits at once" double signal.
import { recordFault } from '@faultline/evidence';
import { CrashError } from './errors.ts';
import { waitForLine } from './ready.ts';
import type { ExitInfo, ManagedProcess } from './spawn.ts';

export interface SendSignalOptions {
  /** Signal the whole process group instead of only the process. Default false. */
  group?: boolean;
  /** A note for the evidence detail, e.g. "while 3 requests were in flight". */
  context?: string;
}

/**
 * Why `signal` would reach nothing live, or undefined when it would. An exited child that Node
 * has not reaped yet is a zombie: kill(2) "succeeds" on it but no code runs to handle the signal,
 * so a shutdown test that then sees exit 0 would pass on an exit the signal never caused.
 */
function notLive(proc: ManagedProcess, signal: NodeJS.Signals, group: boolean): string | undefined {
  const cannot = `sendSignal: cannot send ${signal} to ${proc.describe()}`;
  if (group) {
    return proc.liveGroupMembers().length === 0
      ? `${cannot}: no live process in its group (the leader ${proc.exit ? proc.describeExit() : 'already exited (a zombie not yet reaped)'})`
      : undefined;
  }
  if (proc.exit) return `${cannot}: it ${proc.describeExit()}`;
  return proc.alive ? undefined : `${cannot}: it already exited (a zombie not yet reaped)`;
}

/**
 * Sends `signal` to a live process (or group) and records the delivery as evidence; throws,
 * recording nothing, if nothing live is there to get it.
 */
export function sendSignal(proc: ManagedProcess, signal: NodeJS.Signals, options: SendSignalOptions = {}): void {
  const { group = false, context } = options;
  const why = notLive(proc, signal, group);
  if (why) throw new CrashError('vacuous', why);
  if (!proc.kill(signal, group ? 'group' : 'process')) {
    throw new CrashError(
      'vacuous',
      `sendSignal: cannot send ${signal} to ${proc.describe()}: it ${proc.describeExit()}`,
    );
  }
  recordFault({
    kind: signal === 'SIGKILL' ? 'kill' : 'signal',
    name: proc.name,
    detail: `pid ${proc.pid} got ${signal}${group ? ' (process group)' : ''}${context ? ` ${context}` : ''}`,
    source: '@faultline/crash',
    attributes: { pid: proc.pid, signal, group },
  });
}

export interface ExitWaitOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

/**
 * Waits for the process to exit. On timeout its process group is SIGKILLed (so nothing leaks)
 * and the error says how long it waited and what the process printed last.
 */
export async function waitForExit(proc: ManagedProcess, options: ExitWaitOptions = {}): Promise<ExitInfo> {
  const { timeoutMs = 10_000 } = options;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const exit = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (exit) return exit;
  proc.kill('SIGKILL', 'group');
  await proc.exited;
  throw new CrashError(
    'timeout',
    `waitForExit timed out after ${timeoutMs} ms waiting for ${proc.describe()} to exit; ` +
      `killed its process group with SIGKILL (last output: ${proc.tail()})`,
  );
}

export type ExpectedExit = { code: number } | { signal: NodeJS.Signals };

/** Waits for the exit and asserts it: `{ code: 0 }` for a clean shutdown, `{ signal: 'SIGKILL' }` for a kill. */
export async function expectExit(
  proc: ManagedProcess,
  expected: ExpectedExit,
  options: ExitWaitOptions = {},
): Promise<ExitInfo> {
  const exit = await waitForExit(proc, options);
  const ok = 'code' in expected ? exit.code === expected.code : exit.signal === expected.signal;
  if (!ok) {
    const want = 'code' in expected ? `exit with code ${expected.code}` : `be killed by ${expected.signal}`;
    throw new CrashError(
      'violation',
      `expected ${proc.describe()} to ${want}, but it ${proc.describeExit()} (last output: ${proc.tail()})`,
    );
  }
  return exit;
}

export interface DoubleSignalOptions {
  /** The second signal. Default: the same as the first. */
  second?: NodeJS.Signals;
  /** Wait this long after the first signal before the second. Default 100 ms. */
  gapMs?: number;
  /** Instead of (or before) the gap, wait for this output line, e.g. /draining/, so the second signal lands mid-shutdown. */
  afterLine?: RegExp | string;
  /** Bound on the exit after the second signal. Default 10 000 ms. */
  timeoutMs?: number;
}

export interface DoubleSignalResult {
  exit: ExitInfo;
  /** Milliseconds from the second signal to the exit: "exits at once" is a small number. */
  exitAfterSecondMs: number;
}

/**
 * Sends a signal, then a second one while the first is being handled. Throws if the process
 * exited before the second signal could be sent (the test would prove nothing).
 */
export async function doubleSignal(
  proc: ManagedProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  options: DoubleSignalOptions = {},
): Promise<DoubleSignalResult> {
  const { second = signal, gapMs = 100, afterLine, timeoutMs = 10_000 } = options;
  sendSignal(proc, signal, { context: '(first of two)' });
  if (afterLine !== undefined) await waitForLine(proc, afterLine, { timeoutMs, includePast: false });
  if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  if (!proc.running) {
    throw new CrashError(
      'vacuous',
      `doubleSignal: ${proc.describe()} ${proc.describeExit()} after the first ${signal}, before the second could be sent; ` +
        'use a shorter gapMs or make the first shutdown take longer',
    );
  }
  const sentAt = performance.now();
  sendSignal(proc, second, { context: '(second of two)' });
  const exit = await waitForExit(proc, { timeoutMs });
  return { exit, exitAfterSecondMs: performance.now() - sentAt };
}
