import type { CheckpointStore } from './checkpoint.ts';
import { fpAsync } from './fail.ts';
import type { CacheIndex } from './index-db.ts';
import type { Origin } from './origins/types.ts';

/** Cursor payload stored in the checkpoint's `data`. */
export interface ScanCursor {
  scanId: string;
  /** Last path recorded; the next batch lists paths strictly after it. */
  after: string | null;
  done: boolean;
  /** Entries recorded in this scan so far. */
  count: number;
}

export interface ScanReport {
  originId: string;
  scanId: string;
  resumed: boolean;
  resumedAfter: string | null;
  batches: number;
  /** Entries newly recorded by this call. */
  recorded: number;
  /** Entries of a replayed batch that were already recorded (crash between commit and checkpoint). */
  replayed: number;
  /** Entries recorded in this scan overall (across interruptions). */
  total: number;
  done: boolean;
}

export function scanKey(originId: string): string {
  return `scan/${originId}`;
}

/**
 * Walks an origin's listing in batches. Each batch is committed to SQLite (INSERT OR IGNORE on
 * (scan, path)) BEFORE the checkpoint moves past it, so a crash anywhere replays at most one
 * batch (ignored) and skips nothing: no duplicates, no gaps. The checkpoint `seq` grows by one
 * per step and is merged monotonically, so a stale writer cannot rewind it.
 */
export class Scanner {
  readonly index: CacheIndex;
  readonly checkpoints: CheckpointStore;
  readonly batchSize: number;
  readonly #active = new Set<string>();
  /** Resume an unfinished scan from its checkpoint (default true; false only via `unsafe.scanFromStart`). */
  readonly #resume: boolean;

  constructor(index: CacheIndex, checkpoints: CheckpointStore, batchSize: number, options: { resume?: boolean } = {}) {
    this.index = index;
    this.checkpoints = checkpoints;
    this.batchSize = batchSize;
    this.#resume = options.resume ?? true;
  }

  async cursor(originId: string): Promise<{ seq: number; cursor: ScanCursor | null }> {
    const cp = await this.checkpoints.get(scanKey(originId));
    if (cp === undefined) return { seq: 0, cursor: null };
    return { seq: cp.seq, cursor: cp.data === undefined ? null : (JSON.parse(cp.data) as ScanCursor) };
  }

  async scan(origin: Origin, signal: AbortSignal, listTimeoutMs = 30_000): Promise<ScanReport> {
    if (this.#active.has(origin.id)) throw new Error(`a scan of origin "${origin.id}" is already running`);
    this.#active.add(origin.id);
    try {
      return await this.#scan(origin, signal, listTimeoutMs);
    } finally {
      this.#active.delete(origin.id);
    }
  }

  async #scan(origin: Origin, signal: AbortSignal, listTimeoutMs: number): Promise<ScanReport> {
    const key = scanKey(origin.id);
    let { seq, cursor } = await this.cursor(origin.id);
    const resumed = cursor !== null && !cursor.done && this.#resume;
    if (cursor === null || cursor.done || !resumed) {
      seq += 1;
      cursor = { scanId: `${origin.id}-${seq}`, after: null, done: false, count: 0 };
      const stored = await this.checkpoints.put(key, seq, JSON.stringify(cursor));
      if (stored.seq !== seq)
        throw new Error(`scan "${origin.id}": checkpoint moved concurrently (stored seq ${stored.seq}); retry`);
    }
    const report: ScanReport = {
      originId: origin.id,
      scanId: cursor.scanId,
      resumed,
      resumedAfter: resumed ? cursor.after : null,
      batches: 0,
      recorded: 0,
      replayed: 0,
      total: cursor.count,
      done: false,
    };
    while (!cursor.done) {
      if (signal.aborted)
        throw new Error(
          `scan of "${origin.id}" interrupted after ${report.batches} batches; it resumes from its checkpoint`,
        );
      await fpAsync('scan.batch');
      const listSignal = AbortSignal.any([signal, AbortSignal.timeout(listTimeoutMs)]);
      const page = await origin.list(cursor.after, this.batchSize, listSignal);
      const { inserted, ignored } = this.index.recordScanBatch(cursor.scanId, page.entries, cursor.count);
      await fpAsync('scan.before-checkpoint');
      const last = page.entries[page.entries.length - 1];
      cursor = {
        scanId: cursor.scanId,
        after: last?.path ?? cursor.after,
        done: page.next === null,
        // Every entry after the cursor counts once, whether this run inserted it or a crashed run did.
        count: cursor.count + page.entries.length,
      };
      seq += 1;
      await this.checkpoints.put(key, seq, JSON.stringify(cursor));
      report.batches += 1;
      report.recorded += inserted;
      report.replayed += ignored;
      report.total = cursor.count;
    }
    report.done = true;
    return report;
  }
}
