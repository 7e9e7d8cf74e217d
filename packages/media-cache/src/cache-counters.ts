// The read-through cache's counters, and the guard that turns an index error into a count and a
// log line (the cache keeps serving from the origins when SQLite fails).
import type { Logger } from './log.ts';

export interface CacheCounters {
  hits: number;
  misses: number;
  passthroughReads: number;
  chunkCorrupt: number;
  chunkMissing: number;
  cacheReadErrors: number;
  chunkWriteErrors: number;
  diskFullErrors: number;
  indexErrors: number;
  cacheSkips: number;
  evictions: number;
  evictedChunks: number;
  evictedBytes: number;
  uploads: number;
}

export function zeroCounters(): CacheCounters {
  return {
    hits: 0,
    misses: 0,
    passthroughReads: 0,
    chunkCorrupt: 0,
    chunkMissing: 0,
    cacheReadErrors: 0,
    chunkWriteErrors: 0,
    diskFullErrors: 0,
    indexErrors: 0,
    cacheSkips: 0,
    evictions: 0,
    evictedChunks: 0,
    evictedBytes: 0,
    uploads: 0,
  };
}

/** Runs an index call; on error counts it, logs it and returns undefined. */
export type IndexGuard = <T>(fn: () => T) => T | undefined;

export function indexGuard(counters: CacheCounters, log: Logger): IndexGuard {
  return <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      counters.indexErrors += 1;
      log.log('error', 'index-error', { error });
      return undefined;
    }
  };
}
