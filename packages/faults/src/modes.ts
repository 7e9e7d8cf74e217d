import { type Action, parseSpec } from '@faultline/failpoints';
import { errnoCode } from './errno.ts';

/** How a faulty() wrapper behaves; switch it at runtime with `control.setMode`. */
export type FaultMode =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'fail-every-nth'; readonly n: number; readonly errno: string }
  | { readonly kind: 'fail-after-n'; readonly n: number; readonly errno: string }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'partial-read'; readonly maxBytes: number }
  | { readonly kind: 'return-error'; readonly errno: string }
  | { readonly kind: 'spec'; readonly spec: string };

function positiveInt(what: string, n: number, min: number): number {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${what}: expected an integer >= ${min}, got ${n}`);
  return n;
}

/** Every call goes through untouched. */
export const Healthy: FaultMode = Object.freeze({ kind: 'healthy' });

/** Calls n, 2n, 3n... (counted since the mode was set) fail with `errno` (default EIO). */
export function FailEveryNth(n: number, errno: string | number = 'EIO'): FaultMode {
  return { kind: 'fail-every-nth', n: positiveInt('FailEveryNth(n)', n, 1), errno: errnoCode(errno) };
}

/** The first n calls (since the mode was set) succeed; every later one fails with `errno` (default EIO). */
export function FailAfterN(n: number, errno: string | number = 'EIO'): FaultMode {
  return { kind: 'fail-after-n', n: positiveInt('FailAfterN(n)', n, 0), errno: errnoCode(errno) };
}

/**
 * The call never reaches the target: it hangs for `ms`, then rejects with ETIMEDOUT.
 * Bounded on purpose (a fault that never settles leaks the test); the result is always a
 * promise, even for a synchronous target, because a sync call cannot hang without
 * blocking the event loop.
 */
export function Timeout(ms: number): FaultMode {
  return { kind: 'timeout', ms: positiveInt('Timeout(ms)', ms, 0) };
}

/** The call goes through; a Buffer, Uint8Array, string or `{ bytesRead }` result is cut to `maxBytes`. */
export function PartialRead(maxBytes: number): FaultMode {
  return { kind: 'partial-read', maxBytes: positiveInt('PartialRead(maxBytes)', maxBytes, 0) };
}

/** Every call fails with `errno` ('ENOSPC', 28 or -28) without reaching the target. */
export function ReturnError(errno: string | number): FaultMode {
  return { kind: 'return-error', errno: errnoCode(errno) };
}

/** The fail-rs tasks a faulty() wrapper can take: each has a meaning for one intercepted call. */
const SPEC_TASKS = new Set<Action['task']>(['off', 'return', 'sleep', 'delay', 'panic']);

/**
 * A fail-rs chain, the grammar of @faultline/failpoints (and of `FAILPOINTS`), for every intercepted
 * call: `off` passes it through, `return(ERRNO)` fails it with that errno (bare `return`: EIO),
 * `sleep(ms)`/`delay(ms)` hold it then pass it through, `panic(msg)` throws a FailpointPanic; `N*`
 * counts and `P%` rolls (seeded by the run) as for a failpoint. The named modes are shorthands:
 * `FailAfterN(2, 'EIO')` is `2*off->return(EIO)`, `ReturnError('ENOSPC')` is `return(ENOSPC)`,
 * `Healthy` is `off`. Throws FailpointConfigError on a spec that does not parse, RangeError on a task
 * a call cannot take or an unknown errno.
 */
export function FailSpec(spec: string): FaultMode {
  for (const action of parseSpec(spec)) {
    if (!SPEC_TASKS.has(action.task)) {
      throw new RangeError(
        `FailSpec("${spec}"): "${action.task}" has no meaning for one call of a faulty() target; use off, return(ERRNO), sleep(ms), delay(ms) or panic(msg)`,
      );
    }
    if (action.task === 'return' && action.arg) errnoCode(action.arg);
  }
  return { kind: 'spec', spec };
}

/** The mode as written: `FailEveryNth(3, EIO)`, used in evidence. */
export function describeMode(mode: FaultMode): string {
  switch (mode.kind) {
    case 'healthy':
      return 'Healthy';
    case 'fail-every-nth':
      return `FailEveryNth(${mode.n}, ${mode.errno})`;
    case 'fail-after-n':
      return `FailAfterN(${mode.n}, ${mode.errno})`;
    case 'timeout':
      return `Timeout(${mode.ms})`;
    case 'partial-read':
      return `PartialRead(${mode.maxBytes})`;
    case 'return-error':
      return `ReturnError(${mode.errno})`;
    case 'spec':
      return mode.spec;
  }
}
