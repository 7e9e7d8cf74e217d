// The ordered teardown: each step timed and recorded; a failing step is logged and the next runs.
import { unlink } from 'node:fs/promises';
import { closeOrigins, type DaemonParts } from './compose.ts';
import type { MediaCacheConfig } from './config.ts';
import type { ControlServer } from './control-server.ts';
import type { CloseReport } from './daemon-types.ts';
import type { DataServer } from './data-server.ts';
import { errorCode, errorMessage } from './errors.ts';
import type { CacheIndex } from './index-db.ts';
import type { InstanceLock } from './instance-lock.ts';
import type { Logger } from './log.ts';

export interface ShutdownTargets {
  config: MediaCacheConfig;
  log: Logger;
  parts: DaemonParts;
  index: CacheIndex;
  lock: InstanceLock;
  dataServer: DataServer;
  controlServer: ControlServer;
}

type Step = (name: string, fn: () => Promise<void> | void) => Promise<void>;

function stepRecorder(report: CloseReport, log: Logger): Step {
  return async (name, fn) => {
    const t = performance.now();
    try {
      await fn();
      report.steps.push({ step: name, ms: Math.round(performance.now() - t) });
    } catch (error) {
      report.steps.push({ step: name, ms: Math.round(performance.now() - t), error: errorMessage(error) });
      log.log('error', 'shutdown-step-failed', { step: name, error });
    }
  };
}

/**
 * stop-accepting, drain, actions, control, supervisor, origins, db, socket, lock. The index closes
 * after everything that may still write to it, unless unsafe.dbBeforeDrain moves it before the drain.
 */
export async function shutdown(t: ShutdownTargets): Promise<CloseReport> {
  const { config, parts, dataServer, controlServer } = t;
  const report: CloseReport = { steps: [], abortedRequests: 0, stuckTasks: [] };
  const step = stepRecorder(report, t.log);
  await step('stop-accepting', () => {
    dataServer.stopAccepting();
    controlServer.stopAccepting();
  });
  const closeDb = () => step('db', () => t.index.close());
  if (config.unsafe.dbBeforeDrain) await closeDb();
  await step('drain', async () => {
    report.abortedRequests = await dataServer.drain(config.timeouts.drainMs);
  });
  await step('actions', () => parts.actions.close(1_000));
  await step('control', () => controlServer.drain(500));
  await step('supervisor', async () => {
    parts.cache.stop();
    report.stuckTasks = await parts.supervisor.stop(Math.max(1_000, config.timeouts.drainMs));
  });
  await step('origins', () => closeOrigins(parts.origins));
  if (!config.unsafe.dbBeforeDrain) await closeDb();
  await step('socket', () =>
    unlink(config.control.socket).catch((e: unknown) => {
      if (errorCode(e) !== 'ENOENT') throw e;
    }),
  );
  await step('lock', () => t.lock.release());
  return report;
}

/**
 * MediaCache.close: logs around one shutdown and tells the lifecycle; idempotent (every call
 * returns the same promise).
 */
export function closeOnce(
  t: ShutdownTargets,
  lifecycle: { draining: () => void; stopped: () => void },
): () => Promise<CloseReport> {
  let closing: Promise<CloseReport> | null = null;
  return () => {
    closing ??= (async () => {
      lifecycle.draining();
      t.log.log('info', 'shutdown-begin', { inflight: t.dataServer.inflight.size, drainMs: t.config.timeouts.drainMs });
      const report = await shutdown(t);
      lifecycle.stopped();
      t.log.log('info', 'shutdown-complete', { ...report });
      return report;
    })();
    return closing;
  };
}
