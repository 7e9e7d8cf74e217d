// The /status document: a snapshot of every part, built on demand by the status board.

import type { DaemonParts } from './compose.ts';
import type { MediaCacheConfig } from './config.ts';
import type { ControlServer } from './control-server.ts';
import type { LifecycleState, MediaCacheStatus, StartupReport } from './daemon-types.ts';
import type { DataServer } from './data-server.ts';
import type { CacheIndex } from './index-db.ts';
import { VERSION } from './version.ts';

export interface StatusSources {
  config: MediaCacheConfig;
  parts: DaemonParts;
  index: CacheIndex;
  dataServer: DataServer;
  controlServer: ControlServer;
  httpAddress: string;
  startedAt: Date;
  startup: StartupReport;
  uncaught: { uncaughtExceptions: number; unhandledRejections: number };
  state: () => LifecycleState;
}

export function buildStatus(s: StatusSources): MediaCacheStatus {
  const { config, index, parts } = s;
  const { pool, cache } = parts;
  return {
    name: 'media-cache',
    version: VERSION,
    pid: process.pid,
    state: s.state(),
    startedAt: s.startedAt.toISOString(),
    uptimeMs: Date.now() - s.startedAt.getTime(),
    http: s.httpAddress,
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
    inflight: { http: s.dataServer.inflight.size, control: s.controlServer.inflight.size },
    httpCounters: { ...s.dataServer.counters },
    counters: { ...cache.counters, ...pool.counters, ...s.uncaught },
    actions: parts.actions.stats(),
    tasks: parts.supervisor.status(),
    locks: [cache.evictLock].map((m) => ({ name: m.name, locked: m.locked, waiting: m.waiting })),
    health: { rounds: parts.health.rounds },
    startup: s.startup,
    unsafe: { ...config.unsafe },
  };
}
