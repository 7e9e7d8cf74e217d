// Readiness waits: a TCP port, a Unix socket, a log line, or any condition. Every wait is bounded,
// stops early when the watched process dies, and its error says what it waited for and what the
// process printed last.
import { connect } from 'node:net';
import { CrashError } from './errors.ts';
import type { ManagedProcess, OutputStream } from './spawn.ts';

export interface WaitOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Poll period for condition-based waits. Default 25 ms. */
  intervalMs?: number;
  /** The process expected to become ready: fail fast if it exits, and show its output in errors. */
  process?: ManagedProcess;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function lastOutput(proc: ManagedProcess | undefined): string {
  return proc ? ` (last output: ${proc.tail()})` : '';
}

function exitedEarly(proc: ManagedProcess, what: string): CrashError {
  return new CrashError('violation', `${proc.describe()} ${proc.describeExit()} while ${what}${lastOutput(proc)}`);
}

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that.
 * `what` completes the sentence "timed out after N ms waiting for ...".
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25, process: proc } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (proc && !proc.running) throw exitedEarly(proc, `waiting for ${what}`);
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `; last attempt: ${lastError.message}` : '';
      throw new CrashError(
        'timeout',
        `waitFor timed out after ${timeoutMs} ms waiting for ${what}${cause}${lastOutput(proc)}`,
      );
    }
    await sleep(intervalMs);
  }
}

function tryConnect(options: { port: number; host: string } | { path: string }, timeoutMs: number) {
  return new Promise<boolean>((resolve) => {
    const socket = connect(options);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until a TCP connection to host:port succeeds. */
export async function waitForPort(port: number, options: WaitOptions & { host?: string } = {}): Promise<void> {
  const host = options.host ?? '127.0.0.1';
  const what = `a TCP listener on ${host}:${port}`;
  await waitFor(what, () => tryConnect({ port, host }, 1000), { intervalMs: 50, ...options }).catch((error) => {
    throw rename(error, 'waitFor', 'waitForPort');
  });
}

/** Waits until a connection to the Unix socket at `path` succeeds (not merely until the file exists). */
export async function waitForSocket(path: string, options: WaitOptions = {}): Promise<void> {
  const what = `a listener on Unix socket ${path}`;
  await waitFor(what, () => tryConnect({ path }, 1000), { intervalMs: 50, ...options }).catch((error) => {
    throw rename(error, 'waitFor', 'waitForSocket');
  });
}

function rename(error: unknown, from: string, to: string): unknown {
  if (error instanceof Error && error.message.startsWith(from)) error.message = to + error.message.slice(from.length);
  return error;
}

export interface LineWaitOptions {
  timeoutMs?: number;
  /** Which stream to watch. Default: both. */
  stream?: OutputStream | 'both';
  /** Also match lines printed before the call (still kept in the process's tail). Default true. */
  includePast?: boolean;
}

/**
 * Waits until a line of the process's output matches `pattern` (a RegExp, or a substring) and
 * returns the match, so captures work: `(await waitForLine(p, /listening on (\d+)/))[1]`.
 * Fails fast when the process exits first.
 */
export function waitForLine(
  proc: ManagedProcess,
  pattern: RegExp | string,
  options: LineWaitOptions = {},
): Promise<RegExpExecArray> {
  const { timeoutMs = 10_000, stream = 'both', includePast = true } = options;
  const regex = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
  const where = stream === 'both' ? 'stdout/stderr' : stream;
  const streams: OutputStream[] = stream === 'both' ? ['stdout', 'stderr'] : [stream];
  const test = (line: string) => {
    regex.lastIndex = 0;
    return regex.exec(line) ?? undefined;
  };
  if (includePast) {
    for (const s of streams) {
      for (const line of proc.lines(s)) {
        const match = test(line);
        if (match) return Promise.resolve(match);
      }
    }
  }
  return new Promise<RegExpExecArray>((resolve, reject) => {
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      unsubscribe();
      fn();
    };
    const unsubscribe = proc.onLine((line, s) => {
      if (!streams.includes(s)) return;
      const match = test(line);
      if (match) finish(() => resolve(match));
    });
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new CrashError(
            'timeout',
            `waitForLine timed out after ${timeoutMs} ms waiting for ${regex} on ${where} of ${proc.describe()}${lastOutput(proc)}`,
          ),
        ),
      );
    }, timeoutMs);
    proc.exited.then(() => {
      // Let the last buffered chunks arrive before declaring the line missing.
      setTimeout(() => {
        for (const s of streams) {
          for (const line of proc.lines(s).slice(-50)) {
            const match = test(line);
            if (match) return finish(() => resolve(match));
          }
        }
        finish(() => reject(exitedEarly(proc, `waiting for ${regex} on ${where}`)));
      }, 50);
    });
  });
}
