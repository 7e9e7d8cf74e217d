// Composition: builds the daemon's parts from the resolved config, each unsafe switch passed to the
// part that checks it.
import { ActionQueue } from './action-queue.ts';
import { ReadThroughCache } from './cache.ts';
import { CheckpointStore } from './checkpoint.ts';
import type { MediaCacheConfig } from './config.ts';
import type { MediaCacheDeps } from './daemon-types.ts';
import type { FsLike } from './fs.ts';
import { HealthMonitor } from './health.ts';
import type { Logger } from './log.ts';
import { HttpOrigin } from './origins/http.ts';
import { LocalOrigin } from './origins/local.ts';
import { OriginPool } from './origins/pool.ts';
import type { Origin } from './origins/types.ts';
import { Scanner } from './scanner.ts';
import type { OpenedState, Rollback } from './startup.ts';
import { Supervisor } from './supervisor.ts';

export interface DaemonParts {
  origins: Origin[];
  pool: OriginPool;
  health: HealthMonitor;
  cache: ReadThroughCache;
  checkpoints: CheckpointStore;
  scanner: Scanner;
  actions: ActionQueue;
  supervisor: Supervisor;
}

function buildOrigins(config: MediaCacheConfig, fs: FsLike): Origin[] {
  return config.origins.map((o) =>
    o.type === 'local'
      ? new LocalOrigin({ id: o.id, root: o.path, priority: o.priority, writable: o.writable, fs })
      : new HttpOrigin({
          id: o.id,
          url: o.url,
          priority: o.priority,
          filesPrefix: o.filesPrefix,
          healthPath: o.healthPath,
          listPath: o.listPath,
          acceptShortBody: config.unsafe.acceptShortOriginBody,
        }),
  );
}

/** Closes the origins that hold resources (HTTP agents); the Origin interface has no close. */
export function closeOrigins(origins: Origin[]): void {
  for (const o of origins) (o as { close?: () => void }).close?.();
}

/** Builds every part between the index and the servers; `changed` invalidates the status board. */
export function composeParts(
  config: MediaCacheConfig,
  deps: MediaCacheDeps & { fs: FsLike; log: Logger },
  opened: OpenedState,
  changed: () => void,
  rollback: Rollback,
): DaemonParts {
  const { unsafe } = config;
  const { log } = deps;
  const wrap = deps.wrapOrigin ?? ((o: Origin) => o);
  const origins = [...buildOrigins(config, deps.fs), ...(deps.extraOrigins ?? [])].map(wrap);
  rollback.add(() => closeOrigins(origins));
  const pool = new OriginPool(origins, {
    readTimeoutMs: unsafe.noReadDeadline ? null : config.timeouts.readMs,
    attemptTimeoutMs: unsafe.noReadDeadline ? 2 ** 31 - 1 : config.timeouts.attemptMs,
    failover: !unsafe.noFailover,
    serial: unsafe.serialOriginReads,
    onChange: changed,
  });
  const health = new HealthMonitor(pool, { ...config.health, serial: unsafe.serialHealthChecks });
  const cache = new ReadThroughCache({
    store: opened.store,
    index: opened.index,
    pool,
    chunkSize: config.cache.chunkSize,
    maxBytes: config.cache.maxBytes,
    highWatermark: config.cache.highWatermark,
    lowWatermark: config.cache.lowWatermark,
    probeIntervalMs: config.cache.probeIntervalMs,
    indexBeforeChunkRename: unsafe.indexBeforeChunkRename,
    uncontainedWriteErrors: unsafe.uncontainedWriteErrors,
    alwaysStatOrigin: unsafe.alwaysStatOrigin,
    passthroughReason: opened.passthroughReason,
    log,
    onChange: changed,
  });
  const checkpoints = new CheckpointStore(config.checkpointPath, {
    monotonic: !unsafe.nonMonotonicCheckpoint,
    unsafe: { skipCheckpointFsync: unsafe.skipCheckpointFsync, skipDirFsync: unsafe.skipDirFsync },
  });
  const scanner = new Scanner(opened.index, checkpoints, config.scan.batchSize, { resume: !unsafe.scanFromStart });
  const actions = new ActionQueue(config.timeouts.actionMs);
  actions.onChange = changed;
  const supervisor = new Supervisor({ ...config.supervisor, restart: !unsafe.noTaskRestart, log, onChange: changed });
  return { origins, pool, health, cache, checkpoints, scanner, actions, supervisor };
}
