/**
 * An async mutex whose only entry point for callers is `withLock`, which releases in `finally`:
 * an exception (or rejection) inside the critical section can never leave the lock held.
 */
export class Mutex {
  readonly name: string;
  #locked = false;
  #waiters: Array<() => void> = [];
  #acquisitions = 0;

  constructor(name = 'mutex') {
    this.name = name;
  }

  get locked(): boolean {
    return this.#locked;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** How many times the lock was taken: lets tests prove a critical section really ran. */
  get acquisitions(): number {
    return this.#acquisitions;
  }

  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** Non-blocking variant: runs `fn` only when the lock is free, otherwise returns `undefined`. */
  async tryWithLock<T>(fn: () => T | Promise<T>): Promise<T | undefined> {
    if (this.#locked) return undefined;
    return this.withLock(fn);
  }

  #acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      this.#acquisitions++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#waiters.push(() => {
        this.#acquisitions++;
        resolve();
      });
    });
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next(); // hand over directly: the lock stays held, no barging
  }
}

export function withLock<T>(mutex: Mutex, fn: () => T | Promise<T>): Promise<T> {
  return mutex.withLock(fn);
}
