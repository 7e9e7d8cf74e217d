import { AsyncLocalStorage } from 'node:async_hooks';
import { type Action, parseSpec } from './parse.ts';
import { type Random, streamFor } from './random.ts';

interface HitWaiter {
  after: number;
  resolve: (count: number) => void;
  reject: (error: Error) => void;
}

/** One configured name: its chain, remaining counts, trigger counter, paused callers. */
export class FailPoint {
  readonly name: string;
  readonly spec: string;
  readonly actions: readonly Action[];
  readonly remaining: number[];
  readonly random: Random;
  /** Evaluations where an action triggered (gofail's count); reset by re-configuration. */
  count = 0;
  paused: Set<() => void> | undefined;
  waiters: Set<HitWaiter> | undefined;

  constructor(name: string, spec: string, actions: readonly Action[]) {
    this.name = name;
    this.spec = spec;
    this.actions = actions;
    this.remaining = actions.map((a) => a.count ?? Number.POSITIVE_INFINITY);
    this.random = streamFor(name);
  }

  /**
   * fail-rs `get_task`: the first action that triggers wins. A zero count skips; a missed
   * roll skips without consuming count; a trigger consumes one count.
   */
  pick(): Action | undefined {
    const { actions, remaining } = this;
    for (let i = 0; i < actions.length; i++) {
      const left = remaining[i]!;
      if (left === 0) continue;
      const a = actions[i]!;
      if (a.probability < 1 && this.random() >= a.probability) continue;
      if (left !== Number.POSITIVE_INFINITY) remaining[i] = left - 1;
      this.count++;
      if (this.waiters !== undefined) this.#wake();
      return a;
    }
    return undefined;
  }

  #wake(): void {
    for (const w of this.waiters!) {
      if (this.count > w.after) {
        this.waiters!.delete(w);
        w.resolve(this.count);
      }
    }
  }

  /** Resolves when the point is reconfigured or removed (the released call is a no-op). */
  pause(): Promise<void> {
    this.paused ??= new Set();
    const set = this.paused;
    return new Promise((resolve) => set.add(resolve));
  }

  /** Releases every paused caller: any change of the point's config does this (fail-rs `set_actions`). */
  release(): void {
    const paused = this.paused;
    this.paused = undefined;
    if (paused) for (const resolve of paused) resolve();
  }
}

/** A parsed chain evaluated on its own, outside the registry: what `failSequence` returns. */
export interface FailSequence {
  readonly spec: string;
  /** The action this evaluation takes (fail-rs `get_task`), undefined when none triggers. */
  pick(): Action | undefined;
}

/**
 * A fail-rs chain (`2*off->return(EIO)`) evaluated by the caller instead of a named failpoint: for
 * fault wrappers (`faulty()` in @faultline/faults) that speak the same grammar with their own call
 * counts. Probabilities draw from the run's seed through a stream derived from `name`. Throws
 * FailpointConfigError on a spec that does not parse.
 */
export function failSequence(name: string, spec: string): FailSequence {
  return new FailPoint(name, spec, parseSpec(spec));
}

interface State {
  /** False whenever no point can fire: the one check an unconfigured call pays. */
  hot: boolean;
  armed: number;
  enabled: boolean;
}

interface Shared {
  state?: State;
  globalRegistry?: Registry;
  scopes?: AsyncLocalStorage<Registry>;
}

// Kept under a well-known global symbol: if the package is loaded twice (vitest's module
// graph and node_modules), both copies must drive one registry, or cfg() in a test would
// miss the code under test.
const SHARED = Symbol.for('faultline.failpoints.shared');
const g = globalThis as typeof globalThis & { [SHARED]?: Shared };
g[SHARED] ??= {};
const shared: Shared = g[SHARED];
shared.state ??= { hot: false, armed: 0, enabled: true };

/** Process-wide switches read by the hot path. */
export const state: State = shared.state;

function rearm(delta: number): void {
  state.armed += delta;
  state.hot = state.enabled && state.armed > 0;
}

/** Turns every failpoint into a no-op (fail-rs's feature-off mode); cfg keeps working. */
export function setFailpointsEnabled(enabled: boolean): void {
  state.enabled = enabled;
  rearm(0);
}

/** True when failpoints can fire in this process (see setFailpointsEnabled). */
export function hasFailpoints(): boolean {
  return state.enabled;
}

/** A map name → FailPoint: the global one (env, HTTP, plain cfg) or one per scenario. */
export class Registry {
  readonly points = new Map<string, FailPoint>();
  readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  /** Set by a scenario's teardown: late cfg() calls from code that outlived it are refused. */
  closed = false;

  set(name: string, spec: string, actions: readonly Action[]): void {
    if (this.closed) {
      throw new Error(
        `failpoint "${name}": cfg after the scenario was torn down; configure failpoints inside the scenario body`,
      );
    }
    const previous = this.points.get(name);
    const next = new FailPoint(name, spec, actions);
    this.points.set(name, next);
    if (previous) {
      next.waiters = previous.waiters;
      previous.release();
    } else rearm(1);
  }

  cfg(name: string, spec: string): void {
    checkName(name);
    this.set(name, spec, parseSpec(spec));
  }

  /** fail-rs `cfg_callback`: runs `fn` on every hit, from every call site of the name; list() shows "callback". */
  cfgCallback(name: string, fn: () => void): void {
    checkName(name);
    if (typeof fn !== 'function') throw new TypeError(`cfgCallback("${name}", fn): fn must be a function`);
    const action: Action = {
      probability: 1,
      count: undefined,
      task: 'callback',
      arg: undefined,
      value: undefined,
      callback: fn,
    };
    this.set(name, 'callback', [action]);
  }

  remove(name: string): boolean {
    const point = this.points.get(name);
    if (!point) return false;
    this.points.delete(name);
    rearm(-1);
    point.release();
    for (const w of point.waiters ?? []) {
      w.reject(new Error(`waitForHit: failpoint "${name}" was removed while waiting for more than ${w.after} hits`));
    }
    return true;
  }

  clear(): void {
    for (const name of [...this.points.keys()]) this.remove(name);
  }

  list(): Array<[string, string]> {
    return [...this.points.values()].map((p) => [p.name, p.spec] as [string, string]);
  }

  count(name: string): number | undefined {
    return this.points.get(name)?.count;
  }

  /**
   * Resolves with the count once the point has triggered more than `after` times. Bounded:
   * rejects after `timeoutMs`, and at once if the point is removed, so a waiter can never
   * hang on a point that went away.
   */
  waitForHit(name: string, after: number, timeoutMs: number): Promise<number> {
    const point = this.points.get(name);
    if (!point) return Promise.reject(new Error(`waitForHit: failpoint "${name}" is not configured; cfg() it first`));
    if (point.count > after) return Promise.resolve(point.count);
    return new Promise((resolve, reject) => {
      const waiter: HitWaiter = {
        after,
        resolve: (n) => {
          clearTimeout(timer);
          resolve(n);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.points.get(name)?.waiters?.delete(waiter);
        reject(
          new Error(
            `waitForHit: failpoint "${name}" did not trigger more than ${after} times within ${timeoutMs} ms (count ${this.points.get(name)?.count ?? 0})`,
          ),
        );
      }, timeoutMs);
      point.waiters ??= new Set();
      point.waiters.add(waiter);
    });
  }
}

/** Names appear in `name=spec;...` lists, so they cannot hold `=`, `;` or whitespace. */
export function checkName(name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('=') || name.includes(';') || /\s/.test(name)) {
    throw new TypeError(
      `invalid failpoint name ${JSON.stringify(name)}: use a non-empty name without "=", ";" or spaces`,
    );
  }
}

/** The registry driven by FAILPOINTS, FAILPOINTS_HTTP and cfg() outside any scenario. */
shared.globalRegistry ??= new Registry('global');
shared.scopes ??= new AsyncLocalStorage<Registry>();

export const globalRegistry: Registry = shared.globalRegistry;

/** Scenario isolation: code running inside `scenario()` sees only that scenario's registry. */
export const scopes: AsyncLocalStorage<Registry> = shared.scopes;

export function currentRegistry(): Registry {
  return scopes.getStore() ?? globalRegistry;
}
