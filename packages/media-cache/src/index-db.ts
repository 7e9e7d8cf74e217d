import { existsSync, renameSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { errorMessage } from './errors.ts';
import { fp } from './fail.ts';

export interface FileRow {
  path: string;
  size: number;
  mtimeMs: number;
  chunkSize: number;
  origin: string | null;
}

export interface ChunkRow {
  hash: string;
  size: number;
  lastAccess: number;
}

export interface ScanEntryInput {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface OpenIndexOptions {
  /** For quarantine file names; defaults to the wall clock. */
  now?: () => Date;
  /** Run `PRAGMA integrity_check` on open (default true; false only via `unsafe.skipIndexIntegrityCheck`). */
  integrityCheck?: boolean;
}

export interface OpenIndexResult {
  index: CacheIndex;
  /** Where the corrupt database was moved, when it was. */
  quarantinedTo: string | null;
  /** Why the database was quarantined (integrity_check output or the open error). */
  corruption: string | null;
  /** True when the on-disk database could not be used at all and the index lives in memory. */
  inMemory: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
  chunk_size INTEGER NOT NULL, origin TEXT, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  hash TEXT PRIMARY KEY, size INTEGER NOT NULL, last_access INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_lru ON chunks(last_access);
CREATE TABLE IF NOT EXISTS file_chunks(
  path TEXT NOT NULL, idx INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY(path, idx));
CREATE INDEX IF NOT EXISTS file_chunks_hash ON file_chunks(hash);
CREATE TABLE IF NOT EXISTS scan_entries(
  scan_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
  seq INTEGER NOT NULL, PRIMARY KEY(scan_id, path));
`;

function stamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

/** `PRAGMA integrity_check` (plus the schema) on an open database: null when healthy, else why not. */
function checkIntegrity(db: DatabaseSync): string | null {
  const rows = db.prepare('PRAGMA integrity_check').all() as Array<Record<string, unknown>>;
  const messages = rows.map((row) => String(Object.values(row)[0]));
  if (messages.length === 1 && messages[0] === 'ok') return null;
  return messages.slice(0, 5).join('; ') || 'integrity_check returned nothing';
}

function tryOpen(path: string, integrityCheck = true): { db: DatabaseSync } | { error: string } {
  let db: DatabaseSync | undefined;
  try {
    fp('db.open');
    db = new DatabaseSync(path, { timeout: 5_000 });
    const problem = integrityCheck ? checkIntegrity(db) : null;
    if (problem !== null) throw new Error(`integrity_check failed: ${problem}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
    return { db };
  } catch (error) {
    try {
      db?.close();
    } catch {
      // closing a broken handle may fail too; the file is being quarantined anyway
    }
    return { error: errorMessage(error) };
  }
}

/**
 * Opens the SQLite index. A database that fails to open, fails `PRAGMA integrity_check` or
 * cannot take the schema is quarantined (renamed aside with a timestamp, WAL and SHM with it)
 * and a fresh one is created; if even that fails the index runs in memory. Never throws for a
 * corrupt file: the caller reconciles the chunk directory against whatever index it gets.
 */
export function openIndex(path: string, options: OpenIndexOptions = {}): OpenIndexResult {
  const first = tryOpen(path, options.integrityCheck ?? true);
  if ('db' in first) return { index: new CacheIndex(first.db), quarantinedTo: null, corruption: null, inMemory: false };

  const now = options.now ?? (() => new Date());
  let quarantinedTo: string | null = null;
  if (existsSync(path)) {
    quarantinedTo = `${path}.corrupt-${stamp(now())}`;
    try {
      renameSync(path, quarantinedTo);
      for (const suffix of ['-wal', '-shm']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, quarantinedTo + suffix);
      }
    } catch {
      quarantinedTo = null;
    }
  }
  const second = quarantinedTo === null ? first : tryOpen(path);
  if ('db' in second) {
    return { index: new CacheIndex(second.db), quarantinedTo, corruption: first.error, inMemory: false };
  }
  // The directory itself is unusable (EACCES, EROFS): keep serving with a throwaway index.
  const memory = new DatabaseSync(':memory:');
  memory.exec(SCHEMA);
  return {
    index: new CacheIndex(memory),
    quarantinedTo,
    corruption: `${first.error}; reopen: ${second.error}`,
    inMemory: true,
  };
}

/**
 * The cache metadata: files (size, mtime), which chunk holds each slice of a file, and chunk
 * LRU clocks. All calls are synchronous (node:sqlite), so each one is atomic with respect to
 * the event loop; multi-statement updates run in a transaction.
 */
export class CacheIndex {
  readonly db: DatabaseSync;
  #bytes: number;
  #chunks: number;
  #clock: number;
  #closed = false;
  readonly #stmts: Map<string, StatementSync> = new Map();

  constructor(db: DatabaseSync) {
    this.db = db;
    const totals = db
      .prepare(
        'SELECT COALESCE(SUM(size),0) AS bytes, COUNT(*) AS n, COALESCE(MAX(last_access),0) AS clock FROM chunks',
      )
      .get() as {
      bytes: number;
      n: number;
      clock: number;
    };
    this.#bytes = totals.bytes;
    this.#chunks = totals.n;
    // A logical clock, not wall time: LRU order stays exact even within one millisecond.
    this.#clock = totals.clock;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Total bytes of indexed chunks (kept in memory, so status never queries SQLite). */
  get bytes(): number {
    return this.#bytes;
  }

  get chunkCount(): number {
    return this.#chunks;
  }

  #stmt(sql: string): StatementSync {
    let stmt = this.#stmts.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.#stmts.set(sql, stmt);
    }
    return stmt;
  }

  #tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  fileCount(): number {
    return (this.#stmt('SELECT COUNT(*) AS n FROM files').get() as { n: number }).n;
  }

  getFile(path: string): FileRow | undefined {
    const row = this.#stmt('SELECT path, size, mtime_ms, chunk_size, origin FROM files WHERE path = ?').get(path) as
      | { path: string; size: number; mtime_ms: number; chunk_size: number; origin: string | null }
      | undefined;
    if (row === undefined) return undefined;
    return { path: row.path, size: row.size, mtimeMs: row.mtime_ms, chunkSize: row.chunk_size, origin: row.origin };
  }

  /** Records a file's shape; a changed size, mtime or chunk size drops its chunk mapping. */
  putFile(file: FileRow): void {
    this.#tx(() => {
      const old = this.getFile(file.path);
      if (
        old !== undefined &&
        (old.size !== file.size || old.mtimeMs !== file.mtimeMs || old.chunkSize !== file.chunkSize)
      ) {
        this.#stmt('DELETE FROM file_chunks WHERE path = ?').run(file.path);
      }
      this.#stmt(
        `INSERT INTO files(path, size, mtime_ms, chunk_size, origin, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
           chunk_size = excluded.chunk_size, origin = excluded.origin, updated_at = excluded.updated_at`,
      ).run(file.path, file.size, file.mtimeMs, file.chunkSize, file.origin, Date.now());
    });
  }

  /** Forgets a file (after an upload replaced it). Its chunks stay until LRU eviction. */
  deleteFile(path: string): void {
    this.#tx(() => {
      this.#stmt('DELETE FROM file_chunks WHERE path = ?').run(path);
      this.#stmt('DELETE FROM files WHERE path = ?').run(path);
    });
  }

  getFileChunk(path: string, idx: number): string | undefined {
    const row = this.#stmt('SELECT hash FROM file_chunks WHERE path = ? AND idx = ?').get(path, idx) as
      | { hash: string }
      | undefined;
    return row?.hash;
  }

  /**
   * Maps chunk `idx` of `path` to `hash` and records the chunk. Callers insert only after the
   * chunk file is in place (ChunkStore.write returned). Returns true when the chunk is new.
   */
  insertChunk(path: string, idx: number, hash: string, size: number): boolean {
    fp('index.before-insert');
    return this.#tx(() => {
      const fresh = this.#stmt('SELECT 1 AS x FROM chunks WHERE hash = ?').get(hash) === undefined;
      this.#stmt(
        `INSERT INTO chunks(hash, size, last_access, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(hash) DO UPDATE SET last_access = excluded.last_access`,
      ).run(hash, size, ++this.#clock, Date.now());
      this.#stmt('INSERT OR REPLACE INTO file_chunks(path, idx, hash) VALUES (?, ?, ?)').run(path, idx, hash);
      if (fresh) {
        this.#bytes += size;
        this.#chunks += 1;
      }
      return fresh;
    });
  }

  hasChunk(hash: string): boolean {
    return this.#stmt('SELECT 1 AS x FROM chunks WHERE hash = ?').get(hash) !== undefined;
  }

  chunkSize(hash: string): number | undefined {
    return (this.#stmt('SELECT size FROM chunks WHERE hash = ?').get(hash) as { size: number } | undefined)?.size;
  }

  /** Marks a chunk as just used (LRU). */
  touch(hash: string): void {
    this.#stmt('UPDATE chunks SET last_access = ? WHERE hash = ?').run(++this.#clock, hash);
  }

  /** Removes a chunk and every file mapping that points at it; returns the bytes freed. */
  dropChunk(hash: string): number {
    return this.#tx(() => {
      const row = this.#stmt('SELECT size FROM chunks WHERE hash = ?').get(hash) as { size: number } | undefined;
      this.#stmt('DELETE FROM file_chunks WHERE hash = ?').run(hash);
      if (row === undefined) return 0;
      this.#stmt('DELETE FROM chunks WHERE hash = ?').run(hash);
      this.#bytes -= row.size;
      this.#chunks -= 1;
      return row.size;
    });
  }

  /** Least recently used chunks first. */
  lruChunks(limit: number): ChunkRow[] {
    const rows = this.#stmt('SELECT hash, size, last_access FROM chunks ORDER BY last_access ASC LIMIT ?').all(
      limit,
    ) as Array<{
      hash: string;
      size: number;
      last_access: number;
    }>;
    return rows.map((r) => ({ hash: r.hash, size: r.size, lastAccess: r.last_access }));
  }

  allChunks(): ChunkRow[] {
    const rows = this.#stmt('SELECT hash, size, last_access FROM chunks ORDER BY hash').all() as Array<{
      hash: string;
      size: number;
      last_access: number;
    }>;
    return rows.map((r) => ({ hash: r.hash, size: r.size, lastAccess: r.last_access }));
  }

  /** Chunk mappings of one file, in order. */
  fileChunks(path: string): Array<{ idx: number; hash: string }> {
    return this.#stmt('SELECT idx, hash FROM file_chunks WHERE path = ? ORDER BY idx').all(path) as Array<{
      idx: number;
      hash: string;
    }>;
  }

  /**
   * Records one scan batch in a single transaction. `INSERT OR IGNORE` makes a replayed batch
   * (crash after this commit, before the checkpoint) a no-op: no duplicates.
   */
  recordScanBatch(
    scanId: string,
    entries: readonly ScanEntryInput[],
    firstSeq: number,
  ): { inserted: number; ignored: number } {
    return this.#tx(() => {
      let inserted = 0;
      const stmt = this.#stmt(
        'INSERT OR IGNORE INTO scan_entries(scan_id, path, size, mtime_ms, seq) VALUES (?, ?, ?, ?, ?)',
      );
      entries.forEach((e, i) => {
        const r = stmt.run(scanId, e.path, e.size, e.mtimeMs, firstSeq + i);
        inserted += Number(r.changes);
      });
      return { inserted, ignored: entries.length - inserted };
    });
  }

  scanEntries(scanId: string): Array<{ path: string; size: number; seq: number }> {
    return this.#stmt('SELECT path, size, seq FROM scan_entries WHERE scan_id = ? ORDER BY path').all(scanId) as Array<{
      path: string;
      size: number;
      seq: number;
    }>;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stmts.clear();
    this.db.close();
  }
}
