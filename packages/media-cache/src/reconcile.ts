import type { ChunkStore } from './chunk-store.ts';
import type { CacheIndex } from './index-db.ts';

export interface ReconcileReport {
  /** Chunk files no index row points at (crash between write and insert, or a rebuilt index). */
  orphansDeleted: number;
  /** Index rows whose chunk file is gone. */
  missingDropped: number;
  /** Chunk files whose size disagrees with the index (torn or tampered): deleted and dropped. */
  mismatchedDropped: number;
  /** Temp files left by an interrupted write. */
  tempFilesDeleted: number;
  /** Files with names the store never writes. */
  straysDeleted: number;
  durationMs: number;
}

/**
 * Brings the index and the chunk directory back into agreement at startup (seed: restart
 * reconciliation): the index may only name chunks that exist, and every chunk file must be named.
 */
export async function reconcile(store: ChunkStore, index: CacheIndex): Promise<ReconcileReport> {
  const started = performance.now();
  const report: ReconcileReport = {
    orphansDeleted: 0,
    missingDropped: 0,
    mismatchedDropped: 0,
    tempFilesDeleted: 0,
    straysDeleted: 0,
    durationMs: 0,
  };
  const indexed = new Map(index.allChunks().map((c) => [c.hash, c.size]));
  const seen = new Set<string>();
  for (const file of await store.list()) {
    if (file.temp) {
      await store.removePath(file.path);
      report.tempFilesDeleted += 1;
    } else if (file.hash === null) {
      await store.removePath(file.path);
      report.straysDeleted += 1;
    } else if (!indexed.has(file.hash)) {
      await store.removePath(file.path);
      report.orphansDeleted += 1;
    } else if (indexed.get(file.hash) !== file.size) {
      await store.removePath(file.path);
      index.dropChunk(file.hash);
      report.mismatchedDropped += 1;
      seen.add(file.hash);
    } else {
      seen.add(file.hash);
    }
  }
  for (const hash of indexed.keys()) {
    if (!seen.has(hash)) {
      index.dropChunk(hash);
      report.missingDropped += 1;
    }
  }
  report.durationMs = Math.round(performance.now() - started);
  return report;
}
