import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ActionQueue, type ActionStats } from './action-queue.ts';
import { type CacheCounters, type PassthroughState, ReadThroughCache } from './cache.ts';
import { CheckpointStore } from './checkpoint.ts';
import { ChunkStore } from './chunk-store.ts';
import { type MediaCacheConfig, type MediaCacheConfigInput, resolveConfig, type UnsafeConfig } from './config.ts';
import { type ActionHandler, ControlServer } from './control-server.ts';
import { DataServer, type HttpCounters } from './data-server.ts';
import { sleepUnless } from './deadline.ts';
import { errorCode, errorMessage, RequestError } from './errors.ts';
import { type FsLike, realFs } from './fs.ts';
import { HealthMonitor } from './health.ts';
import { type CacheIndex, openIndex } from './index-db.ts';
import { acquireInstanceLock, type InstanceLock, type StaleCleanup } from './instance-lock.ts';
import { jsonLogger, type Logger } from './log.ts';
import { HttpOrigin } from './origins/http.ts';
import { LocalOrigin } from './origins/local.ts';
import { type OriginHealth, OriginPool, type PoolCounters } from './origins/pool.ts';
import type { Origin } from './origins/types.ts';
import { type ReconcileReport, reconcile } from './reconcile.ts';
import { Scanner, type ScanReport } from './scanner.ts';
import { StatusBoard } from './status-board.ts';
import { Supervisor, type TaskStatus } from './supervisor.ts';
import { VERSION } from './version.ts';

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

/**
 * Starts the daemon in this process: instance lock, SQLite index (integrity-checked), restart
 * reconciliation, data server, control socket, supervised background tasks. Throws
 * InstanceLockedError when a live instance owns the state dir, ConfigError for bad config.
 */
export async function startMediaCache(
  input: MediaCacheConfigInput | MediaCacheConfig,
  deps: MediaCacheDeps = {},
): Promise<MediaCache> {
  const config = resolveConfig(input);
  const log = deps.log ?? jsonLogger();
  const fs = deps.fs ?? realFs;
  const startedAt = new Date();
  let state: LifecycleState = 'starting';
  const cleanups: Array<() => Promise<void> | void> = [];

  await mkdir(config.stateDir, { recursive: true });
  const lock: InstanceLock = await acquireInstanceLock(
    join(config.stateDir, 'media-cache.pid'),
    config.control.socket,
    {
      staleCleanup: !config.unsafe.noStaleCleanup,
    },
  );
  cleanups.push(() => lock.release());
  if (lock.stale.lockRemoved || lock.stale.socketRemoved) log.log('warn', 'stale-instance-cleaned', { ...lock.stale });

  try {
    const { skipChunkFsync, skipDirFsync, chunkInPlace, skipCheckpointFsync } = config.unsafe;
    const store = new ChunkStore({
      dir: join(config.cacheDir, 'chunks'),
      fs,
      verify: !config.unsafe.skipChunkVerify,
      unsafe: { skipChunkFsync, skipDirFsync, chunkInPlace },
    });
    let passthroughReason: string | null = null;
    try {
      await store.init();
    } catch (error) {
      passthroughReason = `cache dir ${store.dir} unusable (${errorCode(error) ?? errorMessage(error)})`;
    }

    const opened = openIndex(config.dbPath, { integrityCheck: !config.unsafe.skipIndexIntegrityCheck });
    const index = opened.index;
    cleanups.push(() => index.close());
    if (opened.corruption !== null) {
      log.log('error', 'index-quarantined', {
        db: config.dbPath,
        quarantinedTo: opened.quarantinedTo,
        corruption: opened.corruption,
        inMemory: opened.inMemory,
      });
    }

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

    const startup: StartupReport = {
      stale: lock.stale,
      db: {
        path: config.dbPath,
        quarantinedTo: opened.quarantinedTo,
        corruption: opened.corruption,
        inMemory: opened.inMemory,
      },
      reconcile: reconcileReport,
    };

    let board: StatusBoard<MediaCacheStatus> | null = null;
    const changed = () => board?.invalidate();
    const wrap = deps.wrapOrigin ?? ((o: Origin) => o);
    const origins = [...buildOrigins(config, fs), ...(deps.extraOrigins ?? [])].map(wrap);
    cleanups.push(() => {
      for (const o of origins) (o as { close?: () => void }).close?.();
    });
    const noDeadline = config.unsafe.noReadDeadline;
    const pool = new OriginPool(origins, {
      readTimeoutMs: noDeadline ? null : config.timeouts.readMs,
      attemptTimeoutMs: noDeadline ? 2 ** 31 - 1 : config.timeouts.attemptMs,
      failover: !config.unsafe.noFailover,
      serial: config.unsafe.serialOriginReads,
      onChange: changed,
    });
    const health = new HealthMonitor(pool, { ...config.health, serial: config.unsafe.serialHealthChecks });
    const cache = new ReadThroughCache({
      store,
      index,
      pool,
      chunkSize: config.cache.chunkSize,
      maxBytes: config.cache.maxBytes,
      highWatermark: config.cache.highWatermark,
      lowWatermark: config.cache.lowWatermark,
      probeIntervalMs: config.cache.probeIntervalMs,
      indexBeforeChunkRename: config.unsafe.indexBeforeChunkRename,
      uncontainedWriteErrors: config.unsafe.uncontainedWriteErrors,
      alwaysStatOrigin: config.unsafe.alwaysStatOrigin,
      passthroughReason,
      log,
      onChange: changed,
    });
    const checkpoints = new CheckpointStore(config.checkpointPath, {
      monotonic: !config.unsafe.nonMonotonicCheckpoint,
      unsafe: { skipCheckpointFsync, skipDirFsync },
    });
    const scanner = new Scanner(index, checkpoints, config.scan.batchSize, { resume: !config.unsafe.scanFromStart });
    const actions = new ActionQueue(config.timeouts.actionMs);
    actions.onChange = changed;
    const supervisor = new Supervisor({
      ...config.supervisor,
      restart: !config.unsafe.noTaskRestart,
      log,
      onChange: changed,
    });
    const uncaught = { uncaughtExceptions: 0, unhandledRejections: 0 };

    const rescan = async (params: URLSearchParams, signal: AbortSignal): Promise<ScanReport[]> => {
      const only = params.get('origin');
      const targets = only === null ? pool.origins : pool.origins.filter((o) => o.id === only);
      if (targets.length === 0)
        throw new RequestError(404, `no origin "${only}"; known: ${pool.origins.map((o) => o.id).join(', ')}`);
      const reports: ScanReport[] = [];
      for (const origin of targets) reports.push(await scanner.scan(origin, signal, config.timeouts.readMs));
      return reports;
    };
    const handlers: Record<string, ActionHandler> = {
      rescan,
      evict: async (params) => {
        const raw = params.get('targetBytes');
        const target = raw === null ? Math.floor(config.cache.lowWatermark * config.cache.maxBytes) : Number(raw);
        if (!Number.isInteger(target) || target < 0)
          throw new RequestError(400, `targetBytes must be an integer >= 0, got "${raw}"`);
        return { ...(await cache.evictTo(target)), nowBytes: index.bytes };
      },
      'check-health': async (_params, signal) => health.checkAll(signal),
      reconcile: async () => reconcile(store, index),
      // Test action: holds the queue for `ms` (api-fast-path: status must stay fast meanwhile).
      sleep: async (params, signal) => {
        const ms = Number(params.get('ms') ?? 1000);
        if (!Number.isInteger(ms) || ms < 0)
          throw new RequestError(400, `ms must be an integer >= 0, got "${params.get('ms')}"`);
        const started = performance.now();
        await sleepUnless(ms, signal);
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('sleep aborted');
        return { sleptMs: Math.round(performance.now() - started) };
      },
    };
    if (config.unsafe.allowRaise) {
      handlers.raise = async (params) => {
        const kind = params.get('kind') ?? 'exception';
        const error = new Error(`raised on request through PUT /actions/raise?kind=${kind} (unsafe.allowRaise)`);
        if (kind === 'rejection') void Promise.reject(error);
        else
          setImmediate(() => {
            throw error;
          });
        return { raised: kind };
      };
    }

    const dataServer = new DataServer({
      cache,
      log,
      idleTimeoutMs: config.http.idleTimeoutMs,
      health: () => ({ offline: pool.offline, passthrough: cache.passthrough.active }),
      unsafe: { noBackpressure: config.unsafe.noBackpressure, fdExhaustionAs500: config.unsafe.fdExhaustionAs500 },
    });
    const controlServer = new ControlServer({
      actions,
      statusJson: () => board!.json(),
      statusThroughQueue: config.unsafe.statusThroughQueue,
      handlers,
      log,
    });

    const httpAddress = await dataServer.listen(config.http.host, config.http.port);
    cleanups.push(() => {
      dataServer.server.closeAllConnections();
      dataServer.server.close();
    });
    await controlServer.listen(config.control.socket);
    cleanups.push(async () => {
      controlServer.server.close();
      await unlink(config.control.socket).catch(() => {});
    });

    const buildStatus = (): MediaCacheStatus => ({
      name: 'media-cache',
      version: VERSION,
      pid: process.pid,
      state,
      startedAt: startedAt.toISOString(),
      uptimeMs: Date.now() - startedAt.getTime(),
      http: httpAddress,
      control: config.control.socket,
      offline: pool.offline,
      passthrough: { ...cache.passthrough },
      origins: pool.health(),
      cache: {
        bytes: index.closed ? 0 : index.bytes,
        maxBytes: config.cache.maxBytes,
        chunks: index.closed ? 0 : index.chunkCount,
        chunkSize: config.cache.chunkSize,
        highWatermark: config.cache.highWatermark,
        lowWatermark: config.cache.lowWatermark,
      },
      inflight: { http: dataServer.inflight.size, control: controlServer.inflight.size },
      httpCounters: { ...dataServer.counters },
      counters: { ...cache.counters, ...pool.counters, ...uncaught },
      actions: actions.stats(),
      tasks: supervisor.status(),
      locks: [cache.evictLock].map((m) => ({ name: m.name, locked: m.locked, waiting: m.waiting })),
      health: { rounds: health.rounds },
      startup,
      unsafe: { ...config.unsafe },
    });
    board = new StatusBoard(buildStatus);

    supervisor.spawn({ name: 'health-monitor', critical: true, run: (signal) => health.run(signal) });
    supervisor.spawn({ name: 'cache-maintenance', critical: true, run: (signal) => cache.maintain(signal) });
    if (config.scan.intervalMs > 0) {
      supervisor.spawn({
        name: 'periodic-scan',
        critical: false,
        run: async (signal) => {
          while (!signal.aborted) {
            await actions.enqueue('rescan', (s) => rescan(new URLSearchParams(), AbortSignal.any([s, signal])));
            await sleepUnless(config.scan.intervalMs, signal);
          }
        },
      });
    }

    let closing: Promise<CloseReport> | null = null;
    const close = (): Promise<CloseReport> => {
      closing ??= (async () => {
        state = 'draining';
        changed();
        log.log('info', 'shutdown-begin', { inflight: dataServer.inflight.size, drainMs: config.timeouts.drainMs });
        const report: CloseReport = { steps: [], abortedRequests: 0, stuckTasks: [] };
        const step = async (name: string, fn: () => Promise<void> | void) => {
          const t = performance.now();
          try {
            await fn();
            report.steps.push({ step: name, ms: Math.round(performance.now() - t) });
          } catch (error) {
            report.steps.push({ step: name, ms: Math.round(performance.now() - t), error: errorMessage(error) });
            log.log('error', 'shutdown-step-failed', { step: name, error });
          }
        };
        await step('stop-accepting', () => {
          dataServer.stopAccepting();
          controlServer.stopAccepting();
        });
        const closeDb = () => step('db', () => index.close());
        if (config.unsafe.dbBeforeDrain) await closeDb();
        await step('drain', async () => {
          report.abortedRequests = await dataServer.drain(config.timeouts.drainMs);
        });
        await step('actions', () => actions.close(1_000));
        await step('control', () => controlServer.drain(500));
        await step('supervisor', async () => {
          cache.stop();
          report.stuckTasks = await supervisor.stop(Math.max(1_000, config.timeouts.drainMs));
        });
        await step('origins', () => {
          for (const o of origins) (o as { close?: () => void }).close?.();
        });
        if (!config.unsafe.dbBeforeDrain) await closeDb();
        await step('socket', () =>
          unlink(config.control.socket).catch((e: unknown) => {
            if (errorCode(e) !== 'ENOENT') throw e;
          }),
        );
        await step('lock', () => lock.release());
        state = 'stopped';
        log.log('info', 'shutdown-complete', { ...report });
        return report;
      })();
      return closing;
    };

    state = 'ready';
    changed();
    log.log('info', 'ready', {
      http: httpAddress,
      control: config.control.socket,
      version: VERSION,
      reconcile: reconcileReport,
    });

    return {
      config,
      httpUrl: `http://${httpAddress}`,
      httpAddress,
      controlSocket: config.control.socket,
      pid: process.pid,
      startup,
      get state() {
        return state;
      },
      status: buildStatus,
      close,
      action(name, params = {}, timeoutMs) {
        const handler = handlers[name];
        if (handler === undefined) return Promise.reject(new Error(`unknown action "${name}"`));
        return actions.enqueue(name, (signal) => handler(new URLSearchParams(params), signal), timeoutMs);
      },
      noteUncaught(kind) {
        if (kind === 'uncaughtException') uncaught.uncaughtExceptions += 1;
        else uncaught.unhandledRejections += 1;
        changed();
      },
      index,
      chunks: store,
      pool,
      health,
      supervisor,
      actions,
      checkpoints,
      scanner,
      cache,
      dataServer,
      controlServer,
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort: the original error is what the caller needs
      }
    }
    throw error;
  }
}
