/** Errors with an errno-style `code`, and the classification the daemon needs to map them. */

export interface ErrnoLike extends Error {
  code?: string;
}

export function errnoError(code: string, message: string): ErrnoLike {
  const error: ErrnoLike = new Error(`${code}: ${message}`);
  error.code = code;
  return error;
}

export function errorCode(error: unknown): string | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Out of file descriptors (process or system wide): the request fails with 503, the process lives on. */
export function isFdExhaustion(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EMFILE' || code === 'ENFILE';
}

/** The disk is full (or over quota). */
export function isDiskFull(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The cache directory cannot be written at all: switch to passthrough. */
export function isUnwritable(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
}

export type OriginErrorKind = 'not-found' | 'unavailable' | 'timeout' | 'offline' | 'fd-exhausted' | 'aborted';

/** A failed origin operation, classified so the HTTP layer can pick 404/502/503/504. */
export class OriginError extends Error {
  override name = 'OriginError';
  readonly kind: OriginErrorKind;
  readonly originId: string | null;
  readonly code: string | undefined;
  constructor(kind: OriginErrorKind, originId: string | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.originId = originId;
    this.code = errorCode(options?.cause);
  }
}

/** A request the daemon refuses before doing any work (bad path, bad range). */
export class RequestError extends Error {
  override name = 'RequestError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Raised to in-flight work when the daemon shuts down. */
export class ShuttingDownError extends Error {
  override name = 'ShuttingDownError';
  constructor(message = 'media-cache is shutting down; retry against another instance or after restart') {
    super(message);
  }
}

/** HTTP status for an error raised while serving a request. */
export function httpStatusFor(error: unknown): number {
  if (error instanceof RequestError) return error.status;
  if (error instanceof ShuttingDownError) return 503;
  if (error instanceof OriginError) {
    switch (error.kind) {
      case 'not-found':
        return 404;
      case 'timeout':
        return 504;
      case 'offline':
      case 'fd-exhausted':
      case 'aborted':
        return 503;
      case 'unavailable':
        return 502;
    }
  }
  if (isFdExhaustion(error)) return 503;
  return 500;
}
