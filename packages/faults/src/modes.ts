import { errnoCode } from './errno.ts';

/** How a faulty() wrapper behaves; switch it at runtime with `control.setMode`. */
export type FaultMode =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'fail-every-nth'; readonly n: number; readonly errno: string }
  | { readonly kind: 'fail-after-n'; readonly n: number; readonly errno: string }
  | { readonly kind: 'timeout'; readonly ms: number }
  | { readonly kind: 'partial-read'; readonly maxBytes: number }
  | { readonly kind: 'return-error'; readonly errno: string };

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
  }
}
