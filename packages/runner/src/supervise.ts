import type { Readable } from 'node:stream';
import { broken } from './breaks.ts';
import { interruptOf } from './interrupt.ts';
import { killTree } from './kill-tree.ts';
import { reapAttempt } from './reap.ts';

/** How much of a child's stderr a crash report quotes. */
const STDERR_TAIL = 4000;

/** A child started detached (its own process group) with stderr piped: a vitest worker or a test command. */
export interface SupervisedChild extends PromiseLike<{ signal?: string | undefined; exitCode?: number | undefined }> {
  readonly pid?: number | undefined;
  readonly stderr: Readable | null;
}

export interface SuperviseOptions {
  /** When the layer's time is up (ms since the epoch): the child's whole tree is SIGKILLed then. */
  deadline: number;
  /** Aborted when the run is interrupted: the tree and every process of the attempt go at once. */
  signal?: AbortSignal | undefined;
  attemptId: string;
  /** Receives the pids an interrupt stopped (the child itself is named apart). */
  stopped: Set<number>;
}

export interface Supervised {
  timedOut: boolean;
  /** The signal that interrupted the run, if one did. */
  interrupted?: string;
  /** `killed by SIGKILL` or `exit code 1`. */
  exit: string;
  signal?: string;
  exitCode?: number;
  /** The end of what the child wrote to stderr (passed through as it came). */
  stderrTail: string;
}

/**
 * Watches one child of a layer to its end, the same way for a vitest worker and a test command: its
 * stderr passed through with the tail kept for a crash report; SIGKILL of its whole tree at the layer
 * deadline; on an interrupt, SIGKILL of the tree and of every process of the attempt at once
 * (synchronously: a second signal may end faultline right after); then a bounded wait for the rest of
 * stderr, which a surviving grandchild can hold open.
 */
export async function supervise(child: SupervisedChild, options: SuperviseOptions): Promise<Supervised> {
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL);
  });
  let timedOut = false;
  const timer = broken('noLayerTimeout')
    ? undefined
    : setTimeout(
        () => {
          timedOut = true;
          if (child.pid) killTree(child.pid);
        },
        Math.max(0, options.deadline - Date.now()),
      );
  let interrupted: string | undefined;
  const { signal, attemptId, stopped } = options;
  const stop = () => {
    interrupted = interruptOf(signal)?.signal ?? 'abort';
    const pid = child.pid;
    for (const p of [...(pid ? killTree(pid) : []), ...reapAttempt(attemptId)]) if (p !== pid) stopped.add(p);
  };
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  const result = await child;
  clearTimeout(timer);
  signal?.removeEventListener('abort', stop);
  await drained(child.stderr, interrupted ? 200 : 2000);
  const exit = result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`;
  return {
    timedOut,
    ...(interrupted ? { interrupted } : {}),
    exit,
    ...(result.signal ? { signal: result.signal } : {}),
    ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
    stderrTail,
  };
}

/** Resolves when the stream has closed, or after `boundMs` (an interrupted user is waiting: keep it short). */
function drained(stream: Readable | null, boundMs: number): Promise<void> {
  if (!stream || stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const bound = setTimeout(resolve, boundMs);
    stream.once('close', () => {
      clearTimeout(bound);
      resolve();
    });
  });
}
