import { deadline, raceSignal } from '../deadline.ts';
import { OriginError } from '../errors.ts';
import { fpAsync } from '../fail.ts';
import { Mutex } from '../lock.ts';
import type { ListPage, Origin, OriginStat } from './types.ts';

export interface OriginHealth {
  id: string;
  kind: 'local' | 'http';
  priority: number;
  /** null until the first check or request says otherwise: unknown origins are tried. */
  healthy: boolean | null;
  lastCheckAt: string | null;
  lastChangeAt: string | null;
  lastError: string | null;
  latencyMs: number | null;
  consecutiveFailures: number;
}

export interface PoolCounters {
  originReads: number;
  originErrors: number;
  failovers: number;
  readTimeouts: number;
}

export interface OriginPoolOptions {
  /** Deadline for one operation across all failover attempts; null disables it (unsafe). */
  readTimeoutMs: number | null;
  /** Deadline for one attempt against one origin. */
  attemptTimeoutMs: number;
  /** Fail over to the next origin within one operation (default true; false only via `unsafe.noFailover`). */
  failover?: boolean;
  /** One operation at a time (default false; true only via `unsafe.serialOriginReads`). */
  serial?: boolean;
  /** Called whenever an origin's health flips, so the status snapshot refreshes. */
  onChange?: () => void;
}

/**
 * The origins in priority order with their health. Operations go to healthy (or not yet
 * checked) origins in order; refused/reset/timed-out attempts mark the origin down and fail
 * over to the next. When every origin is down the pool is offline and fails fast with 503.
 */
export class OriginPool {
  readonly origins: readonly Origin[];
  readonly options: OriginPoolOptions;
  readonly counters: PoolCounters = { originReads: 0, originErrors: 0, failovers: 0, readTimeouts: 0 };
  readonly #health = new Map<string, OriginHealth>();
  readonly #serial = new Mutex('origin-reads');

  constructor(origins: readonly Origin[], options: OriginPoolOptions) {
    this.origins = [...origins].sort((a, b) => a.priority - b.priority);
    this.options = options;
    for (const o of this.origins) {
      this.#health.set(o.id, {
        id: o.id,
        kind: o.kind,
        priority: o.priority,
        healthy: null,
        lastCheckAt: null,
        lastChangeAt: null,
        lastError: null,
        latencyMs: null,
        consecutiveFailures: 0,
      });
    }
  }

  get(id: string): Origin | undefined {
    return this.origins.find((o) => o.id === id);
  }

  health(): OriginHealth[] {
    return this.origins.map((o) => ({ ...this.#health.get(o.id)! }));
  }

  healthOf(id: string): OriginHealth | undefined {
    const h = this.#health.get(id);
    return h === undefined ? undefined : { ...h };
  }

  /** Every origin is known to be down (or there are none): only cached content can be served. */
  get offline(): boolean {
    for (const h of this.#health.values()) if (h.healthy !== false) return false;
    return true;
  }

  markHealthy(id: string, latencyMs: number | null = null): void {
    const h = this.#health.get(id);
    if (h === undefined) return;
    const changed = h.healthy !== true;
    h.healthy = true;
    h.lastError = null;
    h.consecutiveFailures = 0;
    if (latencyMs !== null) h.latencyMs = latencyMs;
    if (changed) {
      h.lastChangeAt = new Date().toISOString();
      this.options.onChange?.();
    }
  }

  markUnhealthy(id: string, error: string): void {
    const h = this.#health.get(id);
    if (h === undefined) return;
    const changed = h.healthy !== false;
    h.healthy = false;
    h.lastError = error;
    h.consecutiveFailures += 1;
    if (changed) {
      h.lastChangeAt = new Date().toISOString();
      this.options.onChange?.();
    }
  }

  noteChecked(id: string): void {
    const h = this.#health.get(id);
    if (h !== undefined) h.lastCheckAt = new Date().toISOString();
  }

  /** Origins worth trying now, best first. */
  candidates(): Origin[] {
    return this.origins.filter((o) => this.#health.get(o.id)!.healthy !== false);
  }

  /**
   * Runs `op` against the candidates in order until one succeeds. not-found moves on without
   * blaming the origin; unavailable/timeout mark it down. The overall deadline covers all attempts.
   */
  async run<T>(
    what: string,
    op: (origin: Origin, signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<{ value: T; origin: Origin }> {
    if (this.options.serial) return this.#serial.withLock(() => this.#run(what, op, signal));
    return this.#run(what, op, signal);
  }

  async #run<T>(
    what: string,
    op: (origin: Origin, signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<{ value: T; origin: Origin }> {
    const all = this.candidates();
    const candidates = this.options.failover === false ? all.slice(0, 1) : all;
    if (candidates.length === 0) {
      throw new OriginError(
        'offline',
        null,
        `${what}: offline, every origin is down and this is not cached; retry once an origin recovers`,
      );
    }
    const overall =
      this.options.readTimeoutMs === null
        ? null
        : deadline(this.options.readTimeoutMs, `${what}: read deadline of ${this.options.readTimeoutMs} ms passed`);
    const signals = [overall?.signal, signal].filter((s): s is AbortSignal => s !== undefined);
    const overallSignal = signals.length === 0 ? new AbortController().signal : AbortSignal.any(signals);
    let notFound: OriginError | null = null;
    let lastError: OriginError | null = null;
    try {
      for (const [i, origin] of candidates.entries()) {
        if (i > 0) this.counters.failovers += 1;
        const attempt = deadline(
          this.options.attemptTimeoutMs,
          `origin "${origin.id}": attempt deadline of ${this.options.attemptTimeoutMs} ms passed`,
        );
        const attemptSignal = AbortSignal.any([overallSignal, attempt.signal]);
        try {
          const work = (async () => {
            await fpAsync('origin.read');
            await fpAsync(`origin.${origin.id}.read`);
            return op(origin, attemptSignal);
          })();
          const value = await raceSignal(work, attemptSignal, () => {
            if (signal?.aborted) return new OriginError('aborted', origin.id, `${what}: aborted by the caller`);
            return new OriginError('timeout', origin.id, `${what}: origin "${origin.id}" did not answer in time`);
          });
          return { value, origin };
        } catch (raw) {
          const error =
            raw instanceof OriginError
              ? raw
              : new OriginError(
                  'unavailable',
                  origin.id,
                  `${what}: origin "${origin.id}": ${String((raw as Error)?.message ?? raw)}`,
                  { cause: raw },
                );
          if (error.kind === 'aborted' && signal?.aborted) throw error;
          if (error.kind === 'fd-exhausted') throw error; // our problem, not the origin's: 503, no failover storm
          if (error.kind === 'not-found') {
            notFound = error;
            continue;
          }
          this.counters.originErrors += 1;
          const timedOut = error.kind === 'timeout' || (error.kind === 'aborted' && attempt.signal.aborted);
          if (timedOut) this.counters.readTimeouts += 1;
          this.markUnhealthy(origin.id, error.message);
          lastError =
            timedOut && error.kind !== 'timeout' ? new OriginError('timeout', origin.id, error.message) : error;
          if (overall?.signal.aborted) {
            throw new OriginError(
              'timeout',
              origin.id,
              `${what}: no origin answered within ${this.options.readTimeoutMs} ms (last: ${origin.id})`,
            );
          }
        } finally {
          attempt.dispose();
        }
      }
    } finally {
      overall?.dispose();
    }
    if (lastError !== null) throw lastError;
    throw notFound ?? new OriginError('not-found', null, `${what}: not found on any origin`);
  }

  async stat(path: string, signal?: AbortSignal): Promise<{ value: OriginStat; origin: Origin }> {
    return this.run(`stat ${path}`, (o, s) => o.stat(path, s), signal);
  }

  /**
   * Reads into `into` when given. A failed or timed-out attempt may still be writing into it in
   * the background, so only the first attempt gets `into`; failover attempts get a fresh buffer.
   */
  async read(
    path: string,
    start: number,
    length: number,
    signal?: AbortSignal,
    into?: Buffer,
  ): Promise<{ value: Buffer; origin: Origin }> {
    this.counters.originReads += 1;
    let target = into;
    return this.run(
      `read ${path}@${start}+${length}`,
      (o, s) => {
        const buffer = target;
        target = undefined;
        return o.read(path, start, length, s, buffer);
      },
      signal,
    );
  }

  async list(after: string | null, limit: number, signal?: AbortSignal): Promise<{ value: ListPage; origin: Origin }> {
    return this.run('list', (o, s) => o.list(after, limit, s), signal);
  }
}
