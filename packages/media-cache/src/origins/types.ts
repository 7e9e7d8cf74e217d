import type { Readable } from 'node:stream';

export interface OriginStat {
  size: number;
  mtimeMs: number;
}

export interface OriginEntry extends OriginStat {
  /** Relative path, `/`-separated; listings are sorted by it (byte order). */
  path: string;
}

export interface ListPage {
  entries: OriginEntry[];
  /** Cursor for the next page (the last path returned), or null when the listing is complete. */
  next: string | null;
}

/**
 * Where file bytes come from. Every call takes an AbortSignal: the pool aborts it when the
 * attempt's deadline passes, and implementations release their resources (sockets, fds).
 * Errors are OriginErrors (not-found / unavailable / fd-exhausted) or raw errors the pool classifies.
 */
export interface Origin {
  readonly id: string;
  readonly kind: 'local' | 'http';
  readonly priority: number;
  stat(path: string, signal: AbortSignal): Promise<OriginStat>;
  /**
   * Exactly `length` bytes from `start`, or an error: a short read is never returned as success.
   * When `into` is given (at least `length` bytes) the bytes land there, with no allocation.
   */
  read(path: string, start: number, length: number, signal: AbortSignal, into?: Buffer): Promise<Buffer>;
  /** Entries with path strictly greater than `after`, at most `limit`, sorted. */
  list(after: string | null, limit: number, signal: AbortSignal): Promise<ListPage>;
  /** Resolves when the origin is usable; rejects otherwise. */
  check(signal: AbortSignal): Promise<void>;
  /** Only writable local origins implement uploads. */
  write?(path: string, body: Readable, signal: AbortSignal): Promise<{ size: number }>;
}
