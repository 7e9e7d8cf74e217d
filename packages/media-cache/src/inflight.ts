import type { ServerResponse } from 'node:http';

export interface Inflight {
  readonly signal: AbortSignal;
  readonly startedAt: number;
}

/**
 * The requests a server is working on, each with an AbortController that fires when the client
 * goes away or shutdown gives up draining. Lets shutdown wait for them with a deadline.
 */
export class InflightTracker {
  readonly #active = new Map<ServerResponse, AbortController>();
  #waiters: Array<() => void> = [];
  total = 0;

  get size(): number {
    return this.#active.size;
  }

  begin(res: ServerResponse): Inflight {
    const controller = new AbortController();
    this.#active.set(res, controller);
    this.total += 1;
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client went away'));
      this.#active.delete(res);
      if (this.#active.size === 0) for (const wake of this.#waiters.splice(0)) wake();
    });
    return { signal: controller.signal, startedAt: performance.now() };
  }

  /** Resolves true when every request finished, false when the deadline passed first. */
  drain(deadlineMs: number): Promise<boolean> {
    if (this.#active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Aborts every remaining request; returns how many. */
  abortAll(reason: Error): number {
    const n = this.#active.size;
    for (const controller of this.#active.values()) controller.abort(reason);
    return n;
  }
}
