import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorCode } from './errors.ts';
import { fp } from './fail.ts';
import { fsyncDir } from './fs.ts';
import { Mutex } from './lock.ts';

/** One key's progress: `seq` only ever grows (monotonic merge); `data` is the caller's cursor payload. */
export interface Checkpoint {
  seq: number;
  data?: string;
  updatedAt: string;
}

export type CheckpointMap = Record<string, Checkpoint>;

export interface CheckpointStoreOptions {
  /** Give up acquiring the cross-process lock after this long (default 10 s). */
  lockTimeoutMs?: number;
  /** false = last writer wins (unsafe.nonMonotonicCheckpoint, test-only). */
  monotonic?: boolean;
  /** The file system (default `node:fs/promises`); layer-1 tests pass a faulty or power-loss one. */
  fs?: CheckpointFs;
  /** Test-only: no fsync of the temp file before its rename / no directory fsync after it. */
  unsafe?: { skipCheckpointFsync?: boolean; skipDirFsync?: boolean };
}

/** The slice of `node:fs/promises` the checkpoint store uses. */
export type CheckpointFs = Pick<
  typeof nodeFs,
  'readFile' | 'writeFile' | 'open' | 'rename' | 'unlink' | 'mkdir' | 'link' | 'readdir' | 'stat'
>;

/** The checkpoint file exists but is not what this store writes. */
export class CheckpointCorruptError extends Error {
  override name = 'CheckpointCorruptError';
}

export class CheckpointLockTimeoutError extends Error {
  override name = 'CheckpointLockTimeoutError';
}

/** Max per key: a writer can never move a stored cursor backwards. Ties go to the newer write. */
export function mergeCheckpoint(stored: Checkpoint | undefined, incoming: Checkpoint, monotonic = true): Checkpoint {
  if (stored === undefined || !monotonic) return incoming;
  return incoming.seq >= stored.seq ? incoming : stored;
}

interface LockOwner {
  pid: number;
  token: string;
  at: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

// One in-process mutex per file: async callers in one process queue here instead of spinning on the lock file.
const localLocks = new Map<string, Mutex>();

/**
 * A JSON file of key → checkpoint shared by several processes (seed: multi-process SIGKILL fuzz).
 * - Cross-process lock: `<file>.lock` created atomically by `link(2)` of a fully written owner
 *   file (never half-written); a lock whose owner pid is dead is broken under `<file>.lock.break`.
 * - Atomic replace: temp file, fsync, rename, directory fsync; readers never see a torn file.
 * - Monotonic merge: every write re-reads the file under the lock and keeps max(seq) per key.
 */
export class CheckpointStore {
  readonly file: string;
  readonly lockFile: string;
  readonly monotonic: boolean;
  readonly lockTimeoutMs: number;
  readonly #fs: CheckpointFs;
  readonly #unsafe: NonNullable<CheckpointStoreOptions['unsafe']>;
  #sweptTemps = false;

  constructor(file: string, options: CheckpointStoreOptions = {}) {
    this.file = file;
    this.lockFile = `${file}.lock`;
    this.monotonic = options.monotonic ?? true;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#fs = options.fs ?? nodeFs;
    this.#unsafe = options.unsafe ?? {};
  }

  /** The whole file (empty when it does not exist yet). */
  async readAll(): Promise<CheckpointMap> {
    let text: string;
    try {
      text = await this.#fs.readFile(this.file, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return {};
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CheckpointCorruptError(
        `${this.file}: not valid JSON (${(error as Error).message}); move it aside to start over`,
      );
    }
    const entries = (parsed as { entries?: unknown } | null)?.entries;
    if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) {
      throw new CheckpointCorruptError(
        `${this.file}: expected {"version":1,"entries":{...}}; move it aside to start over`,
      );
    }
    return entries as CheckpointMap;
  }

  async get(key: string): Promise<Checkpoint | undefined> {
    return (await this.readAll())[key];
  }

  /** Stores `seq` (and `data`) for `key` unless a higher seq is already stored; returns what is stored now. */
  async put(key: string, seq: number, data?: string): Promise<Checkpoint> {
    const result = await this.putMany({ [key]: { seq, data } });
    return result[key]!;
  }

  async putMany(updates: Record<string, { seq: number; data?: string | undefined }>): Promise<CheckpointMap> {
    for (const [key, u] of Object.entries(updates)) {
      if (!Number.isFinite(u.seq))
        throw new TypeError(`checkpoint "${key}": seq must be a finite number, got ${u.seq}`);
    }
    return this.withLock(async () => {
      const current = await this.readAll();
      const at = new Date().toISOString();
      for (const [key, u] of Object.entries(updates)) {
        const incoming: Checkpoint =
          u.data === undefined ? { seq: u.seq, updatedAt: at } : { seq: u.seq, data: u.data, updatedAt: at };
        current[key] = mergeCheckpoint(current[key], incoming, this.monotonic);
      }
      await this.#writeAtomically(current);
      return current;
    });
  }

  async #writeAtomically(entries: CheckpointMap): Promise<void> {
    const temp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    let renamed = false;
    try {
      const handle = await this.#fs.open(temp, 'w');
      try {
        await handle.writeFile(`${JSON.stringify({ version: 1, entries }, null, 1)}\n`);
        // Without it the rename can reach the disk before the data: an empty file after a power loss.
        if (!this.#unsafe.skipCheckpointFsync) await handle.sync();
      } finally {
        await handle.close();
      }
      fp('checkpoint.before-rename');
      await this.#fs.rename(temp, this.file);
      renamed = true;
      // Without it the rename is not durable: a power loss brings back the previous file.
      if (!this.#unsafe.skipDirFsync) await fsyncDir(this.#fs, dirname(this.file));
    } finally {
      if (!renamed) await this.#fs.unlink(temp).catch(() => {});
    }
  }

  /** Runs `fn` holding both the in-process and the cross-process lock; always releases. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    let local = localLocks.get(this.file);
    if (local === undefined) {
      local = new Mutex(`checkpoint:${this.file}`);
      localLocks.set(this.file, local);
    }
    return local.withLock(async () => {
      const token = await this.#acquire();
      try {
        if (!this.#sweptTemps) {
          this.#sweptTemps = true;
          await this.#sweepDeadTemps();
        }
        return await fn();
      } finally {
        await this.#release(token);
      }
    });
  }

  async #acquire(): Promise<string> {
    await this.#fs.mkdir(dirname(this.file), { recursive: true });
    const token = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const owner: LockOwner = { pid: process.pid, token, at: new Date().toISOString() };
    const mine = `${this.lockFile}.${token}`;
    await this.#fs.writeFile(mine, JSON.stringify(owner));
    const until = performance.now() + this.lockTimeoutMs;
    let wait = 1;
    try {
      for (;;) {
        try {
          await this.#fs.link(mine, this.lockFile);
          return token;
        } catch (error) {
          if (errorCode(error) !== 'EEXIST') throw error;
        }
        const holder = await this.#readOwner(this.lockFile);
        if (holder !== null && !pidAlive(holder.pid)) {
          await this.#breakStale(holder.token);
          continue;
        }
        // A lock is linked only once its owner file is whole, so an unreadable one is what a
        // power loss leaves (the owner's bytes were never fsynced): nobody holds it.
        if (holder === null && (await this.#unreadableLock())) {
          await this.#breakStale(null);
          continue;
        }
        if (performance.now() > until) {
          throw new CheckpointLockTimeoutError(
            `${this.lockFile}: held by pid ${holder?.pid ?? '?'} for more than ${this.lockTimeoutMs} ms; if that process is gone, delete the lock file`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
        wait = Math.min(wait * 2, 20);
      }
    } finally {
      await this.#fs.unlink(mine).catch(() => {});
    }
  }

  async #readOwner(path: string): Promise<LockOwner | null> {
    try {
      const owner = JSON.parse(await this.#fs.readFile(path, 'utf8')) as LockOwner;
      return typeof owner.pid === 'number' && typeof owner.token === 'string' ? owner : null;
    } catch {
      return null; // gone already (ENOENT) or not ours: the next link attempt decides
    }
  }

  /** Whether the lock file exists but does not hold an owner (torn by a power loss). */
  async #unreadableLock(): Promise<boolean> {
    try {
      await this.#fs.readFile(this.lockFile, 'utf8');
    } catch {
      return false; // gone: the next link attempt takes it
    }
    return (await this.#readOwner(this.lockFile)) === null;
  }

  /**
   * Removes a dead owner's lock (or, with `token` null, an unreadable one), but only if it is
   * still that one: checked under a break lock.
   */
  async #breakStale(token: string | null): Promise<void> {
    const breakFile = `${this.lockFile}.break`;
    let handle: nodeFs.FileHandle;
    try {
      handle = await this.#fs.open(breakFile, 'wx');
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      // Someone else is breaking it; if that someone died mid-break, clear their break lock.
      const breaker = Number((await this.#fs.readFile(breakFile, 'utf8').catch(() => '')).trim());
      const stat = await this.#fs.stat(breakFile).catch(() => null);
      // An empty file means its creator died before writing its pid: stale once it is old enough.
      const dead = !Number.isInteger(breaker) || breaker <= 0 || !pidAlive(breaker);
      if (dead && stat !== null && Date.now() - stat.mtimeMs > 1_000) {
        await this.#fs.unlink(breakFile).catch(() => {});
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
      return;
    }
    try {
      await handle.writeFile(String(process.pid));
      await handle.close();
      const holder = await this.#readOwner(this.lockFile);
      const stale = token === null ? holder === null && (await this.#unreadableLock()) : holder?.token === token;
      if (stale) await this.#fs.unlink(this.lockFile).catch(() => {});
    } finally {
      await this.#fs.unlink(breakFile).catch(() => {});
    }
  }

  async #release(token: string): Promise<void> {
    const holder = await this.#readOwner(this.lockFile);
    if (holder?.token === token) await this.#fs.unlink(this.lockFile).catch(() => {});
  }

  /** Temp and lock-owner files left by killed writers (their pid is dead). Runs under the lock. */
  async #sweepDeadTemps(): Promise<void> {
    const dir = dirname(this.file);
    const base = basename(this.file);
    const names = await this.#fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const m = name.startsWith(`${base}.tmp-`)
        ? /^(\d+)-/.exec(name.slice(base.length + 5))
        : name.startsWith(`${base}.lock.`) && name !== `${base}.lock.break`
          ? /^(\d+)-/.exec(name.slice(base.length + 6))
          : null;
      if (m !== null && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
        await this.#fs.unlink(join(dir, name)).catch(() => {});
      }
    }
  }
}
