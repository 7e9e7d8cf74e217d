import { fpAsync } from './fail.ts';

/** A mutating action took longer than its timeout. */
export class ActionTimeoutError extends Error {
  override name = 'ActionTimeoutError';
  constructor(action: string, ms: number) {
    super(
      `action "${action}" did not finish within ${ms} ms; it was aborted (raise its timeoutMs if it is legitimately slow)`,
    );
  }
}

/** The queue is closed (shutdown). */
export class ActionQueueClosedError extends Error {
  override name = 'ActionQueueClosedError';
  constructor(action: string) {
    super(`action "${action}" refused: media-cache is shutting down`);
  }
}

export interface ActionStats {
  queued: number;
  running: string | null;
  runningForMs: number | null;
  completed: number;
  failed: number;
  timedOut: number;
}

/**
 * ONE serial queue for every mutating action, each with its own timeout. Read-only status never
 * goes through here (see StatusBoard), so a long action cannot slow `GET /`.
 */
export class ActionQueue {
  readonly defaultTimeoutMs: number;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #running: { name: string; since: number; controller: AbortController } | null = null;
  #completed = 0;
  #failed = 0;
  #timedOut = 0;
  #closed = false;
  onChange: (() => void) | undefined;

  constructor(defaultTimeoutMs: number) {
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  enqueue<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs = this.defaultTimeoutMs): Promise<T> {
    if (this.#closed) return Promise.reject(new ActionQueueClosedError(name));
    this.#queued += 1;
    const result = this.#tail.then(() => this.#run(name, fn, timeoutMs));
    this.#tail = result.catch(() => {});
    return result;
  }

  async #run<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
    this.#queued -= 1;
    if (this.#closed) throw new ActionQueueClosedError(name);
    const controller = new AbortController();
    this.#running = { name, since: performance.now(), controller };
    this.onChange?.();
    let timer: NodeJS.Timeout | undefined;
    try {
      // The action fails as soon as its signal aborts, by its timeout or by close(), even when
      // the action itself is not watching the signal (yet): callers get an answer, never a hang.
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      });
      timer = setTimeout(() => {
        this.#timedOut += 1;
        controller.abort(new ActionTimeoutError(name, timeoutMs));
      }, timeoutMs);
      const work = (async () => {
        await fpAsync('action.run');
        // Aborted while held at the failpoint: never start against a closing daemon.
        controller.signal.throwIfAborted();
        return fn(controller.signal);
      })();
      work.catch(() => {});
      const value = await Promise.race([work, aborted]);
      this.#completed += 1;
      return value;
    } catch (error) {
      if (!(error instanceof ActionTimeoutError)) this.#failed += 1;
      throw error;
    } finally {
      clearTimeout(timer);
      this.#running = null;
      this.onChange?.();
    }
  }

  stats(): ActionStats {
    return {
      queued: this.#queued,
      running: this.#running?.name ?? null,
      runningForMs: this.#running === null ? null : Math.round(performance.now() - this.#running.since),
      completed: this.#completed,
      failed: this.#failed,
      timedOut: this.#timedOut,
    };
  }

  /** Refuses new actions, aborts the running one, and waits (bounded) for the queue to empty. */
  async close(deadlineMs: number): Promise<void> {
    this.#closed = true;
    this.#running?.controller.abort(new ActionQueueClosedError(this.#running.name));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#tail, new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
  }
}
