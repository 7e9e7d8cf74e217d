// @faultline/crash: the layer-2 fork-kill harness. This file is the whole public surface.

export type { CrashErrorKind } from './errors.ts';
export { CrashError } from './errors.ts';
export type { Journal } from './journal.ts';
export { journalLength, lastValue, maxValue, openJournal } from './journal.ts';
export type {
  KilledWorker,
  KillSignal,
  KillTiming,
  KillWaveOptions,
  KillWaveResult,
  ProgressFn,
  RunWavesOptions,
  WavesReport,
} from './kill-wave.ts';
export { assertNoViolations, killWave, runWaves, waveDelayMs } from './kill-wave.ts';
export type { LatencySummary } from './latency.ts';
export { LatencyRecorder } from './latency.ts';
export type { Orphan, OrphanCheckOptions } from './orphans.ts';
export { assertNoOrphans, findOrphans, installOrphanGuard, killOrphans } from './orphans.ts';
export type { PowerLoss, PowerLossOptions } from './power-loss.ts';
export { powerLoss } from './power-loss.ts';
export type { ProcStat } from './process-table.ts';
export { isProcessAlive, listProcesses } from './process-table.ts';
export type { LineWaitOptions, WaitOptions } from './ready.ts';
export { waitFor, waitForLine, waitForPort, waitForSocket } from './ready.ts';
export type {
  LimitedProcess,
  LimitPair,
  ProcLimits,
  RlimitMethod,
  RlimitSupport,
} from './rlimit.ts';
export { applyRlimits, rlimitSupport } from './rlimit.ts';
export type { RlimitResource, Rlimits, RlimitValue } from './rlimit-spec.ts';
export type { LimitUsage } from './rlimit-usage.ts';
export type { RssReport } from './rss.ts';
export { pageSize, sampleRss } from './rss.ts';
export type {
  DoubleSignalOptions,
  DoubleSignalResult,
  ExitWaitOptions,
  ExpectedExit,
  SendSignalOptions,
} from './signals.ts';
export { doubleSignal, expectExit, sendSignal, waitForExit } from './signals.ts';
export type {
  ExitInfo,
  LimitedSpawnOptions,
  ManagedProcess,
  ManagedSpawnOptions,
  OutputStream,
  SpawnTarget,
} from './spawn.ts';
export { describeExit, spawnManaged } from './spawn.ts';
export type { DurabilityInput, StoredValue, Violation, ViolationKind } from './verify.ts';
export { checkDurability, readJsonNumber } from './verify.ts';
export { runWorker } from './worker.ts';
