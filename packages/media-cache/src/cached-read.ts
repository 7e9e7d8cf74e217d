// Serving a chunk from disk: only after its hash checks out. A missing or corrupt chunk is dropped
// from the index (and a corrupt file removed) so the caller refetches it from the origins.
import { type BufferPool, type ChunkLease, lease, SharedBuffer } from './buffer-pool.ts';
import type { CacheCounters, IndexGuard } from './cache-counters.ts';
import type { ChunkRead, ChunkStore } from './chunk-store.ts';
import { isFdExhaustion } from './errors.ts';
import type { CacheIndex } from './index-db.ts';
import type { Logger } from './log.ts';

export interface CachedReadContext {
  store: ChunkStore;
  index: CacheIndex;
  buffers: BufferPool;
  counters: CacheCounters;
  guard: IndexGuard;
  log: Logger;
}

/** The verified chunk `hash` (chunk `idx` of `path`), or null when it must come from the origins. */
export async function readVerified(
  ctx: CachedReadContext,
  path: string,
  idx: number,
  hash: string,
  length: number,
): Promise<ChunkLease | null> {
  const { store, index, counters, log } = ctx;
  const shared = new SharedBuffer(ctx.buffers);
  let result: ChunkRead;
  try {
    result = await store.readInto(hash, shared.buffer, length);
  } catch (error) {
    if (isFdExhaustion(error)) {
      shared.release();
      throw error;
    }
    counters.cacheReadErrors += 1;
    log.log('warn', 'chunk-read-error', { hash, path, idx, error });
    result = { ok: false, reason: 'corrupt' };
  }
  if (result.ok) {
    counters.hits += 1;
    ctx.guard(() => index.touch(hash));
    return lease(result.data, shared);
  }
  shared.release();
  if (result.reason === 'corrupt') counters.chunkCorrupt += 1;
  else counters.chunkMissing += 1;
  log.log('warn', `chunk-${result.reason}`, { hash, path, idx, action: 'refetch from origin' });
  ctx.guard(() => index.dropChunk(hash));
  if (result.reason === 'corrupt') await store.remove(hash).catch(() => {});
  return null;
}
