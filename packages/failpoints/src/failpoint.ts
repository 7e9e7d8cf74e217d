import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordFault } from '@faultline/evidence';
import type { Action } from './parse.ts';
import { type FailPoint, globalRegistry, scopes, state } from './registry.ts';

/** Turns a `return(arg)` into the value the enclosing function returns: arg is undefined for bare `return`. */
export type OnReturn<R> = (arg: string | undefined) => R;

/** A failpoint's misuse at its call site (return without onReturn, a waiting task in the sync form). */
export class FailpointError extends Error {
  override name = 'FailpointError';
  readonly failpoint: string;
  constructor(failpoint: string, message: string) {
    super(message);
    this.failpoint = failpoint;
  }
}

/** Thrown by `panic`: the message is `failpoint NAME panic` or the panic's argument. */
export class FailpointPanic extends Error {
  override name = 'FailpointPanic';
  readonly failpoint: string;
  constructor(failpoint: string, message: string) {
    super(message);
    this.failpoint = failpoint;
  }
}

let logger: (line: string) => void = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Where `print` goes (stderr by default, as fail-rs goes through `log`); returns the previous logger. */
export function setLogger(next: (line: string) => void): (line: string) => void {
  const previous = logger;
  logger = next;
  return previous;
}

const NONE: Promise<undefined> = Promise.resolve(undefined);

// A module-local const, not the imported binding: V8 then knows the object at compile time
// and the unconfigured check folds to one load (or to nothing until the first cfg), while a
// read through the import cell measured ~6x a plain call.
const gate = state;

/**
 * A synchronous failpoint. Unconfigured, it costs one property check. When `return(arg)`
 * fires it returns `onReturn(arg)` (so call sites read `const r = failpoint(...); if (r !== undefined) return r;`).
 * `sleep`, `delay`, `pause` and `yield` throw here: they need `failpointAsync`.
 */
export function failpoint(name: string): undefined;
export function failpoint<R>(name: string, onReturn: OnReturn<R>): R | undefined;
export function failpoint<R>(name: string, ...hook: [onReturn?: OnReturn<R>]): R | undefined {
  // Kept tiny so V8 inlines it into the call site: unconfigured, a call is one field check.
  // A rest parameter, not `onReturn?`: calling a function with fewer arguments than it
  // declares measured one extra cycle per call, a third of a plain call's cost.
  return gate.hot ? evaluate(name, hook[0]) : undefined;
}

function evaluate<R>(name: string, onReturn: OnReturn<R> | undefined): R | undefined {
  const point = (scopes.getStore() ?? globalRegistry).points.get(name);
  if (point === undefined) return undefined;
  const action = point.pick();
  if (action === undefined || action.task === 'off') return undefined;
  return fireSync(point, action, onReturn);
}

/** The async failpoint: everything `failpoint` does, plus `sleep`, `delay`, `pause` and `yield`. */
export function failpointAsync(name: string): Promise<undefined>;
export function failpointAsync<R>(name: string, onReturn: OnReturn<R | PromiseLike<R>>): Promise<R | undefined>;
export function failpointAsync<R>(name: string, onReturn?: OnReturn<R | PromiseLike<R>>): Promise<R | undefined> {
  if (!gate.hot) return NONE;
  const point = (scopes.getStore() ?? globalRegistry).points.get(name);
  if (point === undefined) return NONE;
  const action = point.pick();
  if (action === undefined || action.task === 'off') return NONE;
  return fireAsync(point, action, onReturn);
}

async function fireAsync<R>(
  point: FailPoint,
  action: Action,
  onReturn: OnReturn<R | PromiseLike<R>> | undefined,
): Promise<R | undefined> {
  switch (action.task) {
    case 'sleep':
      record(point, action);
      await sleep(action.value as number);
      return undefined;
    case 'delay':
      // Busy-waits on purpose, like fail-rs: it simulates a CPU-bound stall of the event loop.
      record(point, action);
      spin(action.value as number);
      return undefined;
    case 'pause':
      record(point, action);
      await point.pause();
      return undefined;
    case 'yield':
      record(point, action);
      await new Promise<void>((resolve) => setImmediate(resolve));
      return undefined;
    default:
      return await fireSync(point, action, onReturn);
  }
}

function fireSync<R>(point: FailPoint, action: Action, onReturn: OnReturn<R> | undefined): R | undefined {
  const name = point.name;
  switch (action.task) {
    case 'return':
      record(point, action);
      if (onReturn === undefined) {
        throw new FailpointError(
          name,
          `Return is not supported for the fail point "${name}": pass an onReturn function to failpoint("${name}", (arg) => ...)`,
        );
      }
      return onReturn(action.arg);
    case 'panic':
      record(point, action);
      throw new FailpointPanic(name, action.arg ?? `failpoint ${name} panic`);
    case 'print':
      record(point, action);
      logger(action.arg ?? `failpoint ${name} executed.`);
      return undefined;
    case 'callback':
      record(point, action);
      action.callback!();
      return undefined;
    case 'exit':
    case 'abort':
    case 'kill':
      return die(point, action);
    default:
      throw new FailpointError(
        name,
        `failpoint "${name}" fired ${describe(action)}, which waits: call it with failpointAsync("${name}"); the synchronous failpoint() cannot wait without blocking the event loop`,
      );
  }
}

// The process really dies (layer 2): the stderr line is the only evidence a parent can read.
function die(point: FailPoint, action: Action): undefined {
  record(point, action);
  try {
    writeSync(2, `failpoints: "${point.name}" fired ${describe(action)} in pid ${process.pid}\n`);
  } catch {
    // stderr may be closed; dying matters more than telling.
  }
  if (action.task === 'exit') process.exit(action.value as number);
  if (action.task === 'abort') process.abort();
  // A handled signal (SIGTERM with a shutdown handler) does not kill: the call then returns.
  process.kill(process.pid, action.value as NodeJS.Signals);
  return undefined;
}

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy-wait
  }
}

/** The action as written, with defaults made explicit: `return(1)`, `kill(SIGKILL)`, `exit(1)`. */
export function describe(action: Action): string {
  if (action.task === 'kill' || action.task === 'exit') return `${action.task}(${action.value})`;
  return action.arg === undefined ? action.task : `${action.task}(${action.arg})`;
}

function record(point: FailPoint, action: Action): void {
  recordFault({
    kind: 'failpoint',
    name: point.name,
    detail: `failpoint "${point.name}" fired ${describe(action)}`,
    source: '@faultline/failpoints',
    attributes: { task: action.task, spec: point.spec },
  });
}
