import { applyFailpointList, type WaitForHitOptions } from './control.ts';
import { globalRegistry, Registry, scopes } from './registry.ts';

/** Failpoint configuration given to a scenario: `"a=return(1);b=pause"` or `{ a: 'return(1)' }`. */
export type FailpointSet = string | Readonly<Record<string, string>>;

/** A handle on one registry (a scenario's, or the global one under FailScenario). */
export class Failpoints {
  readonly #registry: Registry;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  cfg(name: string, spec: string): void {
    this.#registry.cfg(name, spec);
  }

  cfgCallback(name: string, fn: () => void): void {
    this.#registry.cfgCallback(name, fn);
  }

  remove(name: string): boolean {
    return this.#registry.remove(name);
  }

  list(): Array<[string, string]> {
    return this.#registry.list();
  }

  count(name: string): number {
    return this.#registry.count(name) ?? 0;
  }

  waitForHit(name: string, options: WaitForHitOptions = {}): Promise<number> {
    const after = options.after ?? this.#registry.count(name) ?? 0;
    return this.#registry.waitForHit(name, after, options.timeoutMs ?? 5000);
  }

  /** Applies a FailpointSet all-or-nothing. */
  apply(set: FailpointSet, origin = 'failpoints'): void {
    const text =
      typeof set === 'string'
        ? set
        : Object.entries(set)
            .map(([name, spec]) => `${name}=${spec}`)
            .join(';');
    applyFailpointList(this.#registry, text, origin);
  }
}

export interface ScenarioOptions {
  /** Failpoints configured before the body runs. */
  failpoints?: FailpointSet;
}

/**
 * Runs `body` with its own failpoint registry: failpoint()/cfg() calls in its async context
 * (the test body and everything it awaits or schedules) see only this scenario's config, so
 * concurrent tests never see each other's. Teardown (always, even on throw) removes every
 * point and releases paused callers. Code running outside that async context (a server
 * started before the test) sees the global registry: use FailScenario for it.
 */
export async function scenario<T>(
  body: (fp: Failpoints) => T | PromiseLike<T>,
  options: ScenarioOptions = {},
): Promise<T> {
  const registry = new Registry('scenario');
  const fp = new Failpoints(registry);
  try {
    if (options.failpoints !== undefined) fp.apply(options.failpoints, 'scenario');
    return await scopes.run(registry, () => body(fp));
  } finally {
    registry.clear();
    registry.closed = true;
  }
}

export interface FailScenarioOptions {
  /** Applied after the cleanup; defaults to `process.env.FAILPOINTS`, as fail-rs's setup reads it. */
  failpoints?: FailpointSet;
  /**
   * How long setup waits for the previous holder. A holder that never tore down (its test
   * threw before teardown) is then evicted with a warning, so one crash cannot wedge the
   * rest of the run (fail-rs tolerates a poisoned lock for the same reason). Default 10 s.
   */
  lockTimeoutMs?: number;
}

let holder: FailScenario | undefined;

/**
 * fail-rs's FailScenario over the global registry: setup takes a process-wide lock, clears
 * every failpoint and applies FAILPOINTS; teardown clears everything, releases paused callers
 * and frees the lock. Use it when the code under test runs outside the test's async context.
 * Supports `using s = await FailScenario.setup()`.
 */
export class FailScenario extends Failpoints {
  #done = false;
  readonly #released: Array<() => void> = [];

  private constructor() {
    super(globalRegistry);
  }

  static async setup(options: FailScenarioOptions = {}): Promise<FailScenario> {
    const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    while (holder !== undefined) {
      const current = holder;
      const released = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), lockTimeoutMs);
        current.#released.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!released && holder === current) {
        process.emitWarning(
          `FailScenario: the previous holder did not tear down within ${lockTimeoutMs} ms; evicting it (call teardown() in a finally, or use \`using\`)`,
          'FailpointsWarning',
        );
        current.teardown();
      }
    }
    const scenario = new FailScenario();
    holder = scenario;
    globalRegistry.clear();
    try {
      const set = options.failpoints ?? process.env.FAILPOINTS;
      if (set !== undefined) scenario.apply(set, options.failpoints === undefined ? 'FAILPOINTS' : 'failpoints');
    } catch (e) {
      scenario.teardown();
      throw e;
    }
    return scenario;
  }

  /** Clears every global failpoint (including ones set outside the scenario), releases pauses, frees the lock. */
  teardown(): void {
    if (this.#done) return;
    this.#done = true;
    globalRegistry.clear();
    if (holder === this) holder = undefined;
    for (const wake of this.#released.splice(0)) wake();
  }

  [Symbol.dispose](): void {
    this.teardown();
  }
}
