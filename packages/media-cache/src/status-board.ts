/**
 * The control API's read fast path: `GET /` serves a pre-serialized snapshot swapped in as one
 * reference. Rebuilding is synchronous over in-memory state (no SQLite, no queue, no await), so
 * a long mutating action can never make status wait.
 */
export class StatusBoard<T> {
  readonly #build: () => T;
  readonly #maxAgeMs: number;
  #snapshot: { value: T; json: string; builtAt: number } | null = null;
  #dirty = true;
  builds = 0;

  constructor(build: () => T, maxAgeMs = 50) {
    this.#build = build;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Something changed: the next read rebuilds. */
  invalidate(): void {
    this.#dirty = true;
  }

  #current(): { value: T; json: string; builtAt: number } {
    const now = performance.now();
    let snap = this.#snapshot;
    if (snap === null || this.#dirty || now - snap.builtAt > this.#maxAgeMs) {
      const value = this.#build();
      snap = { value, json: JSON.stringify(value), builtAt: now };
      this.#snapshot = snap; // one reference swap: readers see the old or the new snapshot, never a mix
      this.#dirty = false;
      this.builds += 1;
    }
    return snap;
  }

  get(): T {
    return this.#current().value;
  }

  json(): string {
    return this.#current().json;
  }
}
