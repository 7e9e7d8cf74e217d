import { deadline, raceSignal, sleepUnless } from './deadline.ts';
import { errorMessage } from './errors.ts';
import { fpAsync } from './fail.ts';
import type { OriginPool } from './origins/pool.ts';
import type { Origin } from './origins/types.ts';

export interface HealthCheckResult {
  id: string;
  healthy: boolean;
  latencyMs: number;
  error: string | null;
}

export interface HealthMonitorOptions {
  /** Per-check timeout: a check that hangs is marked unhealthy when it passes. */
  timeoutMs: number;
  intervalMs: number;
  /** unsafe.serialHealthChecks: check one origin after another (a dead one delays the rest). */
  serial?: boolean;
}

/**
 * Checks every origin, in parallel, each bounded by its own timeout, and writes the result
 * into the pool. A hanging origin costs one timeout, never delays the others.
 */
export class HealthMonitor {
  readonly pool: OriginPool;
  readonly options: HealthMonitorOptions;
  rounds = 0;

  constructor(pool: OriginPool, options: HealthMonitorOptions) {
    this.pool = pool;
    this.options = options;
  }

  async checkOne(origin: Origin, signal?: AbortSignal): Promise<HealthCheckResult> {
    const started = performance.now();
    const limit = deadline(this.options.timeoutMs, `health check of "${origin.id}" timed out`);
    const checkSignal = signal === undefined ? limit.signal : AbortSignal.any([limit.signal, signal]);
    try {
      const work = (async () => {
        await fpAsync('health.check');
        await fpAsync(`health.${origin.id}.check`);
        await origin.check(checkSignal);
      })();
      await raceSignal(
        work,
        checkSignal,
        () => new Error(`health check of origin "${origin.id}" timed out after ${this.options.timeoutMs} ms`),
      );
      const latencyMs = Math.round(performance.now() - started);
      this.pool.markHealthy(origin.id, latencyMs);
      return { id: origin.id, healthy: true, latencyMs, error: null };
    } catch (error) {
      const latencyMs = Math.round(performance.now() - started);
      if (!signal?.aborted) this.pool.markUnhealthy(origin.id, errorMessage(error));
      return { id: origin.id, healthy: false, latencyMs, error: errorMessage(error) };
    } finally {
      this.pool.noteChecked(origin.id);
      limit.dispose();
    }
  }

  async checkNow(id: string, signal?: AbortSignal): Promise<HealthCheckResult> {
    const origin = this.pool.get(id);
    if (origin === undefined)
      throw new Error(`no origin with id "${id}"; known: ${this.pool.origins.map((o) => o.id).join(', ')}`);
    return this.checkOne(origin, signal);
  }

  async checkAll(signal?: AbortSignal): Promise<HealthCheckResult[]> {
    this.rounds += 1;
    if (this.options.serial) {
      const results: HealthCheckResult[] = [];
      for (const origin of this.pool.origins) results.push(await this.checkOne(origin, signal));
      return results;
    }
    return Promise.all(this.pool.origins.map((origin) => this.checkOne(origin, signal)));
  }

  /** The supervised loop: check, sleep, repeat until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.checkAll(signal);
      await sleepUnless(this.options.intervalMs, signal);
    }
  }
}
