// The control API's actions, one named function each; `actionHandlers` is the table the control
// server and MediaCache.action dispatch on.
import type { ReadThroughCache } from './cache.ts';
import type { ChunkStore } from './chunk-store.ts';
import type { MediaCacheConfig } from './config.ts';
import type { ActionHandler } from './control-server.ts';
import { sleepUnless } from './deadline.ts';
import { RequestError } from './errors.ts';
import type { HealthMonitor } from './health.ts';
import type { CacheIndex } from './index-db.ts';
import type { OriginPool } from './origins/pool.ts';
import { reconcile } from './reconcile.ts';
import type { Scanner, ScanReport } from './scanner.ts';

export interface ActionContext {
  config: MediaCacheConfig;
  pool: OriginPool;
  scanner: Scanner;
  cache: ReadThroughCache;
  index: CacheIndex;
  store: ChunkStore;
  health: HealthMonitor;
}

/** `?origin=id` scans one origin, no parameter scans them all, one after the other. */
export function rescanAction(ctx: ActionContext) {
  return async (params: URLSearchParams, signal: AbortSignal): Promise<ScanReport[]> => {
    const { pool } = ctx;
    const only = params.get('origin');
    const targets = only === null ? pool.origins : pool.origins.filter((o) => o.id === only);
    if (targets.length === 0)
      throw new RequestError(404, `no origin "${only}"; known: ${pool.origins.map((o) => o.id).join(', ')}`);
    const reports: ScanReport[] = [];
    for (const origin of targets) reports.push(await ctx.scanner.scan(origin, signal, ctx.config.timeouts.readMs));
    return reports;
  };
}

/** `?targetBytes=n`, default the low watermark. */
function evictAction(ctx: ActionContext): ActionHandler {
  return async (params) => {
    const { cache: limits } = ctx.config;
    const raw = params.get('targetBytes');
    const target = raw === null ? Math.floor(limits.lowWatermark * limits.maxBytes) : Number(raw);
    if (!Number.isInteger(target) || target < 0)
      throw new RequestError(400, `targetBytes must be an integer >= 0, got "${raw}"`);
    return { ...(await ctx.cache.evictTo(target)), nowBytes: ctx.index.bytes };
  };
}

// Test action: holds the queue for `ms` (api-fast-path: status must stay fast meanwhile).
const sleepAction: ActionHandler = async (params, signal) => {
  const ms = Number(params.get('ms') ?? 1000);
  if (!Number.isInteger(ms) || ms < 0)
    throw new RequestError(400, `ms must be an integer >= 0, got "${params.get('ms')}"`);
  const started = performance.now();
  await sleepUnless(ms, signal);
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('sleep aborted');
  return { sleptMs: Math.round(performance.now() - started) };
};

// unsafe.allowRaise only: raises an uncaught exception or rejection, for the process-handler suites.
const raiseAction: ActionHandler = async (params) => {
  const kind = params.get('kind') ?? 'exception';
  const error = new Error(`raised on request through PUT /actions/raise?kind=${kind} (unsafe.allowRaise)`);
  if (kind === 'rejection') void Promise.reject(error);
  else
    setImmediate(() => {
      throw error;
    });
  return { raised: kind };
};

export function actionHandlers(ctx: ActionContext): Record<string, ActionHandler> {
  const handlers: Record<string, ActionHandler> = {
    rescan: rescanAction(ctx),
    evict: evictAction(ctx),
    'check-health': async (_params, signal) => ctx.health.checkAll(signal),
    reconcile: async () => reconcile(ctx.store, ctx.index),
    sleep: sleepAction,
  };
  if (ctx.config.unsafe.allowRaise) handlers.raise = raiseAction;
  return handlers;
}
