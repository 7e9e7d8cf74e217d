// The public surface of media-cache: the daemon as a library, its building blocks for focused
// layer-1 tests, and the checkpoint store that layer-2 workers use directly.

export type { ActionStats } from './action-queue.ts';
export { ActionQueue, ActionQueueClosedError, ActionTimeoutError } from './action-queue.ts';
export type { ChunkLease } from './buffer-pool.ts';
export { BufferPool, SharedBuffer } from './buffer-pool.ts';
export type { CacheCounters, PassthroughState, ReadThroughCacheOptions } from './cache.ts';
export { ReadThroughCache } from './cache.ts';
export type { Checkpoint, CheckpointFs, CheckpointMap, CheckpointStoreOptions } from './checkpoint.ts';
export { CheckpointCorruptError, CheckpointLockTimeoutError, CheckpointStore, mergeCheckpoint } from './checkpoint.ts';
export type { ChunkRead, ChunkStoreOptions, StoredFile, WriteOptions } from './chunk-store.ts';
export { ChunkStore, sha256 } from './chunk-store.ts';
export type { MediaCacheConfig, MediaCacheConfigInput, OriginConfig, UnsafeConfig } from './config.ts';
export { ConfigError, DEFAULT_UNSAFE, loadConfigFile, resolveConfig, unsafeFromBreaks } from './config.ts';
export type { ActionHandler, ControlServerOptions } from './control-server.ts';
export { ControlServer } from './control-server.ts';
export { startMediaCache } from './daemon.ts';
export type {
  CloseReport,
  CloseStep,
  LifecycleState,
  MediaCache,
  MediaCacheDeps,
  MediaCacheStatus,
  StartupReport,
} from './daemon-types.ts';
export type { DataServerOptions, HttpCounters } from './data-server.ts';
export { DataServer } from './data-server.ts';
export type { OriginErrorKind } from './errors.ts';
export { httpStatusFor, OriginError, RequestError, ShuttingDownError } from './errors.ts';
export { EXIT } from './exit-codes.ts';
export { injectedError } from './fail.ts';
export { FAILPOINTS } from './failpoint-names.ts';
export type { FsLike } from './fs.ts';
export { realFs } from './fs.ts';
export type { HealthCheckResult, HealthMonitorOptions } from './health.ts';
export { HealthMonitor } from './health.ts';
export type { ChunkRow, FileRow, OpenIndexResult, ScanEntryInput } from './index-db.ts';
export { CacheIndex, openIndex } from './index-db.ts';
export type { Inflight } from './inflight.ts';
export { InflightTracker } from './inflight.ts';
export type { InstanceLock, StaleCleanup } from './instance-lock.ts';
export { acquireInstanceLock, InstanceLockedError, pidAlive, socketAnswers } from './instance-lock.ts';
export { Mutex, withLock } from './lock.ts';
export type { JsonLoggerOptions, LogFields, Logger, LogLevel } from './log.ts';
export { jsonLogger, MemoryLogger, serializeError, silentLogger } from './log.ts';
export type { HttpOriginOptions } from './origins/http.ts';
export { HttpOrigin } from './origins/http.ts';
export type { LocalOriginOptions } from './origins/local.ts';
export { LocalOrigin } from './origins/local.ts';
export type { OriginHealth, OriginPoolOptions, PoolCounters } from './origins/pool.ts';
export { OriginPool } from './origins/pool.ts';
export type { ListPage, Origin, OriginEntry, OriginStat } from './origins/types.ts';
export { encodeFilePath, normalizeFilePath } from './paths.ts';
export type { ProcessHandlerOptions, UncaughtKind, UncaughtPolicy } from './process-handlers.ts';
export { EXIT_UNCAUGHT, handleUncaught, installProcessHandlers } from './process-handlers.ts';
export type { RangeResult } from './range.ts';
export { parseRange } from './range.ts';
export type { ReconcileReport } from './reconcile.ts';
export { reconcile } from './reconcile.ts';
export type { ScanCursor, ScanReport } from './scanner.ts';
export { Scanner, scanKey } from './scanner.ts';
export { StatusBoard } from './status-board.ts';
export type { SupervisorOptions, TaskSpec, TaskState, TaskStatus } from './supervisor.ts';
export { Supervisor } from './supervisor.ts';
export { VERSION } from './version.ts';
