import { types } from 'node:util';
import { recordFault } from '@faultline/evidence';
import { FailpointPanic, type FailSequence, failSequence } from '@faultline/failpoints';
import { errnoError } from './errno.ts';
import { describeMode, FailSpec, type FaultMode } from './modes.ts';
import { truncateResult } from './truncate.ts';

/** Runtime control of one faulty() wrapper. */
export interface FaultControl {
  readonly mode: FaultMode;
  /** Switches the mode; n-based modes count calls from this moment. */
  setMode(mode: FaultMode): void;
  /** Intercepted calls since creation (or the last reset). */
  readonly calls: number;
  /** Injected failures (errors, timeouts, truncated results) since creation (or the last reset). */
  readonly failures: number;
  /** Intercepted calls of one method (the function itself counts under its own name). */
  callsOf(method: string): number;
  reset(): void;
}

export interface Faulty<T> {
  /** Use this in place of the target: same shape, faults injected per the mode. */
  readonly proxy: T;
  readonly control: FaultControl;
}

export interface FaultyOptions {
  /** Name in evidence and errors; defaults to the function's or the constructor's name. */
  name?: string;
  /** Only these methods are intercepted (objects); default: every function-valued property. */
  methods?: readonly string[];
  /**
   * Whether injected errors reject instead of throwing. 'auto' (default): reject when the
   * target is an async function or has already returned a promise from a previous call.
   */
  async?: boolean | 'auto';
}

// Never intercepted: awaiting a proxy reads `then`, and `constructor` is identity, not behaviour.
const PASS_THROUGH = new Set<PropertyKey>(['then', 'constructor']);

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Wraps an object or function in a Proxy that injects faults per `mode`. Methods run with the
 * real object as `this`, so private fields keep working. Every injected failure records
 * evidence (kind 'fault') on the current test.
 */
export function faulty<T extends object>(target: T, mode: FaultMode | string, options: FaultyOptions = {}): Faulty<T> {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    throw new TypeError(`faulty(target, mode): target must be an object or a function, got ${typeof target}`);
  }
  const label = options.name ?? nameOf(target);
  const only = options.methods ? new Set<PropertyKey>(options.methods) : undefined;
  let current = typeof mode === 'string' ? FailSpec(mode) : mode;
  // A spec mode's chain, evaluated per call with its own counts (restarted by setMode and reset).
  let sequence = sequenceOf(label, current);
  let sinceMode = 0;
  let calls = 0;
  let failures = 0;
  const perMethod = new Map<string, number>();
  const promising = new Set<string>();

  const control: FaultControl = {
    get mode() {
      return current;
    },
    setMode(next) {
      current = next;
      sequence = sequenceOf(label, next);
      sinceMode = 0;
    },
    get calls() {
      return calls;
    },
    get failures() {
      return failures;
    },
    callsOf: (method) => perMethod.get(method) ?? 0,
    reset() {
      calls = 0;
      failures = 0;
      sinceMode = 0;
      sequence = sequenceOf(label, current);
      perMethod.clear();
    },
  };

  const fail = (method: string, what: string, n: number): void => {
    failures++;
    recordFault({
      kind: 'fault',
      name: label,
      detail: `${label}${method === label ? '' : `.${method}`} ${what} (${describeMode(current)})`,
      source: '@faultline/faults',
      attributes: { method, call: n, mode: describeMode(current) },
    });
  };

  const invoke = (method: string, fn: AnyFunction, self: unknown, args: unknown[]): unknown => {
    calls++;
    const n = ++sinceMode;
    perMethod.set(method, (perMethod.get(method) ?? 0) + 1);
    const rejects =
      options.async === true || (options.async !== false && (types.isAsyncFunction(fn) || promising.has(method)));
    const raise = (errno: string): unknown => {
      fail(method, `failed with ${errno}`, n);
      const error = errnoError(errno, method);
      if (rejects) return Promise.reject(error);
      throw error;
    };
    const m = current;
    switch (m.kind) {
      case 'fail-every-nth':
        if (n % m.n === 0) return raise(m.errno);
        break;
      case 'fail-after-n':
        if (n > m.n) return raise(m.errno);
        break;
      case 'return-error':
        return raise(m.errno);
      case 'timeout':
        fail(method, `timed out after ${m.ms} ms`, n);
        return new Promise((_, reject) => setTimeout(() => reject(errnoError('ETIMEDOUT', method)), m.ms));
      case 'spec': {
        const action = sequence?.pick();
        if (action === undefined || action.task === 'off') break;
        if (action.task === 'return') return raise(action.arg || 'EIO');
        if (action.task === 'panic') {
          fail(method, 'panicked', n);
          throw new FailpointPanic(label, action.arg ?? `faulty ${label} panic`);
        }
        // sleep / delay: the call is held, then goes through (the result is a promise, as for Timeout).
        const ms = action.value as number;
        fail(method, `held ${ms} ms`, n);
        return new Promise((resolve) => setTimeout(resolve, ms)).then(() => Reflect.apply(fn, self, args));
      }
      default:
        break;
    }
    const result = Reflect.apply(fn, self, args);
    if (types.isPromise(result)) promising.add(method);
    if (m.kind !== 'partial-read') return result;
    const cut = (value: unknown): unknown => {
      const t = truncateResult(value, m.maxBytes);
      if (t.cut) fail(method, `returned a partial read`, n);
      return t.value;
    };
    return types.isPromise(result) ? result.then(cut) : cut(result);
  };

  // One wrapper per (key, method) so identity is stable (`proxy.m === proxy.m`) until the method is reassigned.
  const wrappers = new Map<string, { method: AnyFunction; wrapper: AnyFunction }>();
  // A function target is faulted through its calls; its own properties (call, bind...) pass through.
  const interceptMethods = typeof target !== 'function' || only !== undefined;
  const handler: ProxyHandler<T> = {
    apply(fn, self, args) {
      return invoke(label, fn as AnyFunction, self, args);
    },
    get(obj, key) {
      const value: unknown = Reflect.get(obj, key, obj);
      if (typeof value !== 'function' || typeof key === 'symbol' || PASS_THROUGH.has(key)) return value;
      if (!interceptMethods) return value;
      const method = value as AnyFunction;
      const cached = wrappers.get(key);
      if (cached?.method === method) return cached.wrapper;
      const intercepted = only === undefined || only.has(key);
      const wrapper = function (this: unknown, ...args: unknown[]) {
        // The real object is `this` (private fields need it) unless the method was rebound on purpose.
        const self = this === proxy || this === undefined ? obj : this;
        return intercepted ? invoke(key, method, self, args) : Reflect.apply(method, self, args);
      };
      wrappers.set(key, { method, wrapper });
      return wrapper;
    },
  };
  const proxy = new Proxy(target, handler);
  return { proxy, control };
}

function sequenceOf(label: string, mode: FaultMode): FailSequence | undefined {
  return mode.kind === 'spec' ? failSequence(`faulty:${label}`, mode.spec) : undefined;
}

function nameOf(target: object): string {
  if (typeof target === 'function' && target.name) return target.name;
  const ctor = (target as { constructor?: { name?: string } }).constructor;
  return ctor?.name && ctor.name !== 'Object' ? ctor.name : 'target';
}
