import { constants } from 'node:os';
import { getSystemErrorMessage } from 'node:util';

const ERRNO = constants.errno as Record<string, number>;
const injected = new WeakSet<Error>();

/**
 * Resolves `'EIO'`, `5` or `-5` to the errno code name; throws on anything the platform
 * does not define, so a typo fails when the fault is configured, not when it fires.
 */
export function errnoCode(errno: string | number): string {
  if (typeof errno === 'string') {
    if (errno in ERRNO) return errno;
    throw new RangeError(`unknown errno code "${errno}": use a name from os.constants.errno, e.g. EIO, ENOSPC, EACCES`);
  }
  const n = Math.abs(errno);
  const code = Object.keys(ERRNO).find((k) => ERRNO[k] === n);
  if (code === undefined) throw new RangeError(`unknown errno number ${errno}: use a value from os.constants.errno`);
  return code;
}

/** An error shaped like the ones libuv produces: `code`, negative `errno`, `syscall`, `path`. */
export function errnoError(errno: string | number, syscall: string, path?: string): NodeJS.ErrnoException {
  const code = errnoCode(errno);
  const number = ERRNO[code]!;
  const where = path === undefined ? syscall : `${syscall} '${path}'`;
  const error: NodeJS.ErrnoException = new Error(`${code}: ${getSystemErrorMessage(-number)}, ${where}`);
  error.code = code;
  error.errno = -number;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  injected.add(error);
  return error;
}

/** True for errors made by @faultline/faults, so a test can tell an injected fault from a real one. */
export function isInjectedFault(error: unknown): boolean {
  return error instanceof Error && injected.has(error);
}
