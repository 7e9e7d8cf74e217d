// Startup up to the point where the daemon can serve: instance lock, chunk store, SQLite index and
// restart reconciliation, each with its undo registered so a failure later in startup rolls back.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ChunkStore } from './chunk-store.ts';
import type { MediaCacheConfig } from './config.ts';
import type { StartupReport } from './daemon-types.ts';
import { errorCode, errorMessage } from './errors.ts';
import type { FsLike } from './fs.ts';
import { type CacheIndex, type OpenIndexResult, openIndex } from './index-db.ts';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.ts';
import type { Logger } from './log.ts';
import { type ReconcileReport, reconcile } from './reconcile.ts';

/** Undo steps of a half-started daemon, run newest first when startup throws. */
export class Rollback {
  readonly #undo: Array<() => Promise<void> | void> = [];

  add(undo: () => Promise<void> | void): void {
    this.#undo.push(undo);
  }

  async run(): Promise<void> {
    for (const undo of this.#undo.reverse()) {
      try {
        await undo();
      } catch {
        // best effort: the original error is what the caller needs
      }
    }
  }
}

/** Runs `start`; when it throws, undoes what it registered and rethrows the original error. */
export async function withRollback<T>(start: (rollback: Rollback) => Promise<T>): Promise<T> {
  const rollback = new Rollback();
  try {
    return await start(rollback);
  } catch (error) {
    await rollback.run();
    throw error;
  }
}

export interface OpenedState {
  lock: InstanceLock;
  store: ChunkStore;
  index: CacheIndex;
  /** Non-null: the cache dir cannot be used, serve straight from the origins. */
  passthroughReason: string | null;
  startup: StartupReport;
}

/** Lock, chunk store, index and reconciliation, in that order (the lock guards the other three). */
export async function openState(
  config: MediaCacheConfig,
  log: Logger,
  fs: FsLike,
  rollback: Rollback,
): Promise<OpenedState> {
  const lock = await lockStateDir(config, log, rollback);
  const store = new ChunkStore({
    dir: join(config.cacheDir, 'chunks'),
    fs,
    verify: !config.unsafe.skipChunkVerify,
    unsafe: {
      skipChunkFsync: config.unsafe.skipChunkFsync,
      skipDirFsync: config.unsafe.skipDirFsync,
      chunkInPlace: config.unsafe.chunkInPlace,
    },
  });
  let passthroughReason: string | null = null;
  try {
    await store.init();
  } catch (error) {
    passthroughReason = `cache dir ${store.dir} unusable (${errorCode(error) ?? errorMessage(error)})`;
  }
  const opened = openIndexLogged(config, log);
  const index = opened.index;
  rollback.add(() => index.close());
  let reconcileReport: ReconcileReport | null = null;
  if (passthroughReason === null && !config.unsafe.skipStartupReconcile) {
    try {
      reconcileReport = await reconcile(store, index);
      log.log('info', 'reconciled', { ...reconcileReport });
    } catch (error) {
      log.log('error', 'reconcile-failed', { error });
      passthroughReason = `reconciliation failed (${errorCode(error) ?? errorMessage(error)})`;
    }
  }
  const { quarantinedTo, corruption, inMemory } = opened;
  const startup: StartupReport = {
    stale: lock.stale,
    db: { path: config.dbPath, quarantinedTo, corruption, inMemory },
    reconcile: reconcileReport,
  };
  return { lock, store, index, passthroughReason, startup };
}

async function lockStateDir(config: MediaCacheConfig, log: Logger, rollback: Rollback): Promise<InstanceLock> {
  await mkdir(config.stateDir, { recursive: true });
  const lock = await acquireInstanceLock(join(config.stateDir, 'media-cache.pid'), config.control.socket, {
    staleCleanup: !config.unsafe.noStaleCleanup,
  });
  rollback.add(() => lock.release());
  if (lock.stale.lockRemoved || lock.stale.socketRemoved) log.log('warn', 'stale-instance-cleaned', { ...lock.stale });
  return lock;
}

function openIndexLogged(config: MediaCacheConfig, log: Logger): OpenIndexResult {
  const opened = openIndex(config.dbPath, { integrityCheck: !config.unsafe.skipIndexIntegrityCheck });
  if (opened.corruption !== null) {
    log.log('error', 'index-quarantined', {
      db: config.dbPath,
      quarantinedTo: opened.quarantinedTo,
      corruption: opened.corruption,
      inMemory: opened.inMemory,
    });
  }
  return opened;
}
