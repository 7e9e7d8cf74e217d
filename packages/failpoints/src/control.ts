import type { Action } from './parse.ts';
import { parseFailpointList } from './parse.ts';
import { currentRegistry, type Registry } from './registry.ts';

// Every function here acts on the current registry: the scenario's inside `scenario()`,
// the process-wide one elsewhere (which FAILPOINTS and FAILPOINTS_HTTP drive too).

/**
 * Configures a failpoint with a fail-rs spec, e.g. `cfg('db-open', '50%3*return(1)->off')`.
 * The spec is parsed whole first: an invalid one throws FailpointConfigError and the
 * previous config stays. Re-configuring resets counts and releases paused callers.
 */
export function cfg(name: string, spec: string): void {
  currentRegistry().cfg(name, spec);
}

/** Runs `fn` on every hit of `name`, from every call site (fail-rs `cfg_callback`). */
export function cfgCallback(name: string, fn: () => void): void {
  currentRegistry().cfgCallback(name, fn);
}

/** Deletes a failpoint and releases its paused callers; returns false if it was not set. */
export function remove(name: string): boolean {
  return currentRegistry().remove(name);
}

/** Every configured failpoint with its spec exactly as given, in configuration order. */
export function list(): Array<[string, string]> {
  return currentRegistry().list();
}

/** How many hits triggered an action (including `off`) since the point was last configured; 0 if unset. */
export function count(name: string): number {
  return currentRegistry().count(name) ?? 0;
}

export interface WaitForHitOptions {
  /** Resolve once the count exceeds this; defaults to the current count (the next hit). */
  after?: number;
  /** Bound on the wait; default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Resolves with the new count once `name` triggers (e.g. a caller reached `pause`), so a test
 * synchronizes on the point instead of sleeping. Rejects on timeout or if the point is removed.
 */
export function waitForHit(name: string, options: WaitForHitOptions = {}): Promise<number> {
  const registry = currentRegistry();
  const after = options.after ?? registry.count(name) ?? 0;
  return registry.waitForHit(name, after, options.timeoutMs ?? 5000);
}

/** Applies a `name=spec;...` list all-or-nothing (every entry is validated first). */
export function applyFailpointList(registry: Registry, text: string, origin: string): void {
  const entries: Array<[string, string, Action[]]> = parseFailpointList(text, origin);
  for (const [name, spec, actions] of entries) registry.set(name, spec, actions);
}
