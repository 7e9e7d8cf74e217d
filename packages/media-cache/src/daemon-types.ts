// The daemon's public shapes: what startMediaCache returns, its status and its close report.
import type { ActionQueue, ActionStats } from './action-queue.ts';
import type { CacheCounters, PassthroughState, ReadThroughCache } from './cache.ts';
import type { CheckpointStore } from './checkpoint.ts';
import type { ChunkStore } from './chunk-store.ts';
import type { MediaCacheConfig, UnsafeConfig } from './config.ts';
import type { ControlServer } from './control-server.ts';
import type { DataServer, HttpCounters } from './data-server.ts';
import type { FsLike } from './fs.ts';
import type { HealthMonitor } from './health.ts';
import type { CacheIndex } from './index-db.ts';
import type { StaleCleanup } from './instance-lock.ts';
import type { Logger } from './log.ts';
import type { OriginHealth, OriginPool, PoolCounters } from './origins/pool.ts';
import type { Origin } from './origins/types.ts';
import type { ReconcileReport } from './reconcile.ts';
import type { Scanner } from './scanner.ts';
import type { Supervisor, TaskStatus } from './supervisor.ts';

export interface MediaCacheDeps {
  /** fs/promises-shaped object for the chunk store and local origins (wrap it to inject ENOSPC/EIO/EACCES). */
  fs?: FsLike;
  log?: Logger;
  /** Wraps every configured origin (layer-1 fault wrappers). */
  wrapOrigin?: (origin: Origin) => Origin;
  /** Origins built in code rather than from config (mocks, wrapped objects). */
  extraOrigins?: Origin[];
}

export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

export interface StartupReport {
  stale: StaleCleanup;
  db: { path: string; quarantinedTo: string | null; corruption: string | null; inMemory: boolean };
  reconcile: ReconcileReport | null;
}

export interface MediaCacheStatus {
  name: 'media-cache';
  version: string;
  pid: number;
  state: LifecycleState;
  startedAt: string;
  uptimeMs: number;
  http: string;
  control: string;
  offline: boolean;
  passthrough: PassthroughState;
  origins: OriginHealth[];
  cache: {
    bytes: number;
    maxBytes: number;
    chunks: number;
    chunkSize: number;
    highWatermark: number;
    lowWatermark: number;
  };
  inflight: { http: number; control: number };
  httpCounters: HttpCounters;
  counters: CacheCounters & PoolCounters & { uncaughtExceptions: number; unhandledRejections: number };
  actions: ActionStats;
  tasks: TaskStatus[];
  locks: Array<{ name: string; locked: boolean; waiting: number }>;
  health: { rounds: number };
  startup: StartupReport;
  unsafe: UnsafeConfig;
}

export interface CloseStep {
  step: string;
  ms: number;
  error?: string;
}

export interface CloseReport {
  /** Teardown steps in the order they ran: stop-accepting, drain, actions, supervisor, db, socket, lock. */
  steps: CloseStep[];
  /** In-flight requests still running at the drain deadline, aborted with a clean error. */
  abortedRequests: number;
  /** Background tasks that did not stop within the deadline. */
  stuckTasks: string[];
}

export interface MediaCache {
  readonly config: MediaCacheConfig;
  /** `http://host:port` of the data server (the real port when config said 0). */
  readonly httpUrl: string;
  readonly httpAddress: string;
  readonly controlSocket: string;
  readonly pid: number;
  readonly startup: StartupReport;
  readonly state: LifecycleState;
  status(): MediaCacheStatus;
  /** Ordered teardown; idempotent (every call returns the same promise). */
  close(): Promise<CloseReport>;
  /** Runs an action through the serial queue, as the control API does. */
  action(name: string, params?: Record<string, string>, timeoutMs?: number): Promise<unknown>;
  /** Counters for uncaught faults, bumped by installProcessHandlers' onFault. */
  noteUncaught(kind: 'uncaughtException' | 'unhandledRejection'): void;
  // Building blocks, for focused layer-1 tests.
  readonly index: CacheIndex;
  readonly chunks: ChunkStore;
  readonly pool: OriginPool;
  readonly health: HealthMonitor;
  readonly supervisor: Supervisor;
  readonly actions: ActionQueue;
  readonly checkpoints: CheckpointStore;
  readonly scanner: Scanner;
  readonly cache: ReadThroughCache;
  readonly dataServer: DataServer;
  readonly controlServer: ControlServer;
}
