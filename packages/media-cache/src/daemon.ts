import { unlink } from 'node:fs/promises';
import { type ActionContext, actionHandlers, rescanAction } from './actions.ts';
import { composeParts, type DaemonParts } from './compose.ts';
import { type MediaCacheConfig, type MediaCacheConfigInput, resolveConfig } from './config.ts';
import { type ActionHandler, ControlServer } from './control-server.ts';
import type { CloseReport, LifecycleState, MediaCache, MediaCacheDeps, MediaCacheStatus } from './daemon-types.ts';
import { DataServer } from './data-server.ts';
import { sleepUnless } from './deadline.ts';
import { realFs } from './fs.ts';
import { jsonLogger, type Logger } from './log.ts';
import { closeOnce } from './shutdown.ts';
import { type OpenedState, openState, type Rollback, withRollback } from './startup.ts';
import { buildStatus } from './status.ts';
import { StatusBoard } from './status-board.ts';
import { VERSION } from './version.ts';

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
  const life: { state: LifecycleState } = { state: 'starting' };
  return withRollback(async (rollback) => {
    const opened = await openState(config, log, fs, rollback);
    const { index, lock, startup } = opened;
    let board: StatusBoard<MediaCacheStatus> | null = null;
    const changed = () => board?.invalidate();
    const parts = composeParts(config, { ...deps, fs, log }, opened, changed, rollback);
    const actionCtx: ActionContext = { config, ...parts, index, store: opened.store };
    const handlers = actionHandlers(actionCtx);
    const servers = await listen(config, log, parts, handlers, () => statusJson(board), rollback);
    const uncaught = { uncaughtExceptions: 0, unhandledRejections: 0 };
    const status = (): MediaCacheStatus =>
      buildStatus({ config, parts, index, ...servers, startedAt, startup, uncaught, state: () => life.state });
    board = new StatusBoard(status);
    spawnBackgroundTasks(config, parts, actionCtx);
    const close = closeOnce(
      { config, log, parts, index, lock, ...servers },
      {
        draining: () => {
          life.state = 'draining';
          changed();
        },
        stopped: () => {
          life.state = 'stopped';
        },
      },
    );
    life.state = 'ready';
    changed();
    log.log('info', 'ready', {
      http: servers.httpAddress,
      control: config.control.socket,
      version: VERSION,
      reconcile: startup.reconcile,
    });
    return mediaCacheHandle({ config, life, opened, parts, servers, handlers, uncaught, changed, status, close });
  });
}

interface HandleParts {
  config: MediaCacheConfig;
  life: { state: LifecycleState };
  opened: OpenedState;
  parts: DaemonParts;
  servers: Servers;
  handlers: Record<string, ActionHandler>;
  uncaught: { uncaughtExceptions: number; unhandledRejections: number };
  changed: () => void;
  status: () => MediaCacheStatus;
  close: () => Promise<CloseReport>;
}

/** The MediaCache object handed to the caller: addresses, lifecycle, actions and the building blocks. */
function mediaCacheHandle(h: HandleParts): MediaCache {
  const { config, life, opened, parts, servers, handlers, uncaught } = h;
  return {
    config,
    httpUrl: `http://${servers.httpAddress}`,
    httpAddress: servers.httpAddress,
    controlSocket: config.control.socket,
    pid: process.pid,
    startup: opened.startup,
    get state() {
      return life.state;
    },
    status: h.status,
    close: h.close,
    action(name, params = {}, timeoutMs) {
      const handler = handlers[name];
      if (handler === undefined) return Promise.reject(new Error(`unknown action "${name}"`));
      return parts.actions.enqueue(name, (signal) => handler(new URLSearchParams(params), signal), timeoutMs);
    },
    noteUncaught(kind) {
      if (kind === 'uncaughtException') uncaught.uncaughtExceptions += 1;
      else uncaught.unhandledRejections += 1;
      h.changed();
    },
    index: opened.index,
    chunks: opened.store,
    pool: parts.pool,
    health: parts.health,
    supervisor: parts.supervisor,
    actions: parts.actions,
    checkpoints: parts.checkpoints,
    scanner: parts.scanner,
    cache: parts.cache,
    dataServer: servers.dataServer,
    controlServer: servers.controlServer,
  };
}

// The control socket listens before the board exists; a request in that window fails as before.
function statusJson(board: StatusBoard<MediaCacheStatus> | null): string {
  if (board === null) throw new Error('status requested before startup finished');
  return board.json();
}

interface Servers {
  dataServer: DataServer;
  controlServer: ControlServer;
  httpAddress: string;
}

/** Data server first, then the control socket; each registers how to undo its listen. */
async function listen(
  config: MediaCacheConfig,
  log: Logger,
  parts: DaemonParts,
  handlers: Record<string, ActionHandler>,
  statusJson: () => string,
  rollback: Rollback,
): Promise<Servers> {
  const { cache, pool } = parts;
  const dataServer = new DataServer({
    cache,
    log,
    idleTimeoutMs: config.http.idleTimeoutMs,
    health: () => ({ offline: pool.offline, passthrough: cache.passthrough.active }),
    unsafe: { noBackpressure: config.unsafe.noBackpressure, fdExhaustionAs500: config.unsafe.fdExhaustionAs500 },
  });
  const controlServer = new ControlServer({
    actions: parts.actions,
    statusJson,
    statusThroughQueue: config.unsafe.statusThroughQueue,
    handlers,
    log,
  });
  const httpAddress = await dataServer.listen(config.http.host, config.http.port);
  rollback.add(() => {
    dataServer.server.closeAllConnections();
    dataServer.server.close();
  });
  await controlServer.listen(config.control.socket);
  rollback.add(async () => {
    controlServer.server.close();
    await unlink(config.control.socket).catch(() => {});
  });
  return { dataServer, controlServer, httpAddress };
}

function spawnBackgroundTasks(config: MediaCacheConfig, parts: DaemonParts, actionCtx: ActionContext): void {
  const { supervisor, health, cache, actions } = parts;
  supervisor.spawn({ name: 'health-monitor', critical: true, run: (signal) => health.run(signal) });
  supervisor.spawn({ name: 'cache-maintenance', critical: true, run: (signal) => cache.maintain(signal) });
  if (config.scan.intervalMs <= 0) return;
  const rescan = rescanAction(actionCtx);
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
