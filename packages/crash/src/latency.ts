// Latency recording for "reads stay fast while a long mutation is in flight" soak tests.
import { CrashError } from './errors.ts';

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  readonly #samples: number[] = [];
  #sorted: number[] | undefined;

  /** Adds one measurement in milliseconds. */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new CrashError('usage', `LatencyRecorder.record: expected a duration >= 0 ms, got ${ms}`);
    this.#samples.push(ms);
    this.#sorted = undefined;
  }

  /** Runs `fn`, records how long it took (also when it throws), and returns its result. */
  async time<T>(fn: () => T | Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.record(performance.now() - start);
    }
  }

  get count(): number {
    return this.#samples.length;
  }

  /** Nearest-rank percentile, `p` in (0, 100]. */
  percentile(p: number): number {
    if (!(p > 0 && p <= 100))
      throw new CrashError('usage', `LatencyRecorder.percentile: p must be in (0, 100], got ${p}`);
    if (this.#samples.length === 0)
      throw new CrashError('usage', 'LatencyRecorder.percentile: no samples recorded yet');
    this.#sorted ??= [...this.#samples].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * this.#sorted.length);
    return this.#sorted[Math.max(0, rank - 1)]!;
  }

  summary(): LatencySummary {
    const n = this.#samples.length;
    if (n === 0) return { count: 0, min: 0, mean: 0, p50: 0, p99: 0, max: 0 };
    const p50 = this.percentile(50);
    return {
      count: n,
      min: this.#sorted![0]!,
      mean: this.#samples.reduce((a, b) => a + b, 0) / n,
      p50,
      p99: this.percentile(99),
      max: this.percentile(100),
    };
  }
}
