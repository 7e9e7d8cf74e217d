/**
 * What stops a run that is not the tests' fault and not bad input in the matrix: results or reports
 * that cannot be written (a full or read-only disk), another run holding the directory, the matrix
 * edited while the run was in flight. The CLI prints the message as one line and exits 2.
 */
export type RunErrorKind = 'cannot-write' | 'locked' | 'matrix-changed';

export class RunError extends Error {
  readonly kind: RunErrorKind;
  /** The file the error is about. */
  readonly path: string;
  /** The system error code (`ENOSPC`, `EROFS`, ...) for `cannot-write`. */
  readonly code: string | undefined;

  constructor(kind: RunErrorKind, path: string, message: string, code?: string) {
    super(message);
    this.name = 'RunError';
    this.kind = kind;
    this.path = path;
    this.code = code;
  }
}

/** The storage errors a run reports in plain words instead of a stack trace. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error on the device',
};

/**
 * `error` as a `cannot-write` RunError naming `path` when it is a storage failure (full, read-only,
 * not permitted); anything else (a bug) is returned as it is, to surface with its stack.
 */
export function writeFailure(path: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const words = code ? WRITE_FAILURES[code] : undefined;
  if (!code || !words) return error;
  return new RunError('cannot-write', path, `cannot write ${path}: ${words} (${code})`, code);
}
