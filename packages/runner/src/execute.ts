import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FileError, LayerResults, ProjectRun, TestRecord, UnattributedEvidence } from '@faultline/matrix';
import { RESULTS_SCHEMA } from '@faultline/matrix';
import { broken } from './breaks.ts';
import { runCommandProject } from './command-project.ts';
import { type ContainerReap, reapAttemptContainers, trackAttempt, untrackAttempt } from './container-reap.ts';
import { interruptOf } from './interrupt.ts';
import type { LayerPlan } from './plan.ts';
import type { ProgressSink } from './progress.ts';
import { reapAttempt } from './reap.ts';
import { uniqueTestIds } from './test-ids.ts';
import { toolVersions } from './versions.ts';
import { runVitestProject } from './vitest-project.ts';

export interface ExecuteOptions {
  root: string;
  matrixFile: string;
  seed: number;
  /** Stored in the results: the run this layer belongs to, and the matrix it ran against. */
  runId: string;
  matrixDigest: string;
  issue?: string;
  /** Only these test files (absolute paths), e.g. the files that hold one cell's tests. */
  files?: readonly string[];
  /** Extra environment for the layer's worker and its tests (`faultline verify` sets FAULTLINE_BREAK here). */
  env?: Readonly<Record<string, string>>;
  shard?: { index: number; count: number };
  /** Layer-3 backend asked for on the command line (overrides env and matrix). */
  backend?: string;
  progress: ProgressSink;
  /** Directory for per-layer scratch files (capabilities reported by libraries). */
  runDir: string;
  /**
   * Aborted (reason `Interrupted`, see interrupt.ts) when the run is interrupted: the layer's worker and
   * every process of the attempt are SIGKILLed at once, and the layer ends marked interrupted.
   */
  signal?: AbortSignal;
}

export interface ProjectOutcome {
  run: ProjectRun;
  tests: TestRecord[];
  errors: FileError[];
  unattributed: UnattributedEvidence[];
}

function readCapabilities(dir: string): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  let text = '';
  try {
    text = readFileSync(join(dir, 'capabilities.ndjson'), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const { key, value } = JSON.parse(line) as { key: string; value: string | boolean };
      out[key] = value;
    } catch {
      // A torn line from a killed worker carries nothing we can trust.
    }
  }
  return out;
}

/** How long removing an attempt's containers may take: an interrupted run must end within 2 s in all. */
const CONTAINER_REAP_MS = { interrupted: 1000, ended: 5000 };

/**
 * Removes the containers the attempt's tests started and left (a SIGKILLed worker runs no cleanup: an
 * interrupt, the layer timeout, a crash). After a clean end there are none, and one listing says so.
 */
async function reapContainers(layer: string, attemptId: string, interrupted: boolean): Promise<ContainerReap> {
  if (broken('noContainerReap')) return { removed: [] };
  const reap = await reapAttemptContainers(
    attemptId,
    interrupted ? CONTAINER_REAP_MS.interrupted : CONTAINER_REAP_MS.ended,
  );
  if (reap.removed.length && !interrupted) {
    process.stderr.write(`faultline: removed ${reap.removed.length} container(s) the ${layer} tests left running\n`);
  }
  if (reap.failed) {
    process.stderr.write(`faultline: could not remove ${layer} test containers: ${reap.failed.join('; ')}\n`);
  }
  return reap;
}

/**
 * Runs every project of one layer, in order, within the layer's timeout. Each call is independent of the
 * last: the layer's scratch dir (`FAULTLINE_RUN_DIR`) starts empty and every process it left is reaped.
 */
export async function executeLayer(plan: LayerPlan, options: ExecuteOptions): Promise<LayerResults> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + plan.timeoutMs;
  const layerRunDir = join(options.runDir, plan.layer);
  const attemptId = `${plan.layer}-${options.seed}-${randomUUID()}`;
  rmSync(layerRunDir, { recursive: true, force: true });
  mkdirSync(layerRunDir, { recursive: true });
  options.progress.layerStart(plan);
  if (!broken('noContainerReap')) trackAttempt(attemptId);

  const projects: ProjectRun[] = [];
  const tests: TestRecord[] = [];
  const errors: FileError[] = [];
  const unattributed: UnattributedEvidence[] = [];
  const stopped = new Set<number>();
  for (const project of plan.projects) {
    const interrupt = interruptOf(options.signal);
    if (interrupt) {
      projects.push({
        name: project.name,
        dir: project.relDir,
        tests: 0,
        durationMs: 0,
        outcome: 'interrupted',
        reason: `not started: the run was interrupted (${interrupt.signal})`,
      });
      continue;
    }
    if (Date.now() >= deadline) {
      projects.push({
        name: project.name,
        dir: project.relDir,
        tests: 0,
        durationMs: 0,
        outcome: 'not-run',
        reason: 'layer timeout reached before this project started',
      });
      errors.push({
        project: project.name,
        file: project.relDir,
        kind: 'timeout',
        message: 'not started: layer timeout',
      });
      continue;
    }
    const outcome = project.command
      ? await runCommandProject(plan, project, options, deadline, layerRunDir, attemptId, stopped)
      : await runVitestProject(plan, project, options, deadline, layerRunDir, attemptId, stopped);
    projects.push(outcome.run);
    tests.push(...outcome.tests);
    errors.push(...outcome.errors);
    unattributed.push(...outcome.unattributed);
  }

  if (!broken('noAttemptReap')) {
    for (const pid of reapAttempt(attemptId)) if (options.signal?.aborted) stopped.add(pid);
  }
  const interrupt = interruptOf(options.signal);
  const containers = await reapContainers(plan.layer, attemptId, interrupt !== undefined);
  untrackAttempt(attemptId);
  const capabilities = readCapabilities(layerRunDir);
  const endedAt = new Date();
  // An external server is shared: which one (version and address) is part of the backend shown.
  const server = typeof capabilities.toxiproxyServer === 'string' ? `: ${capabilities.toxiproxyServer}` : '';
  const backend = typeof capabilities.backend === 'string' ? `${capabilities.backend}${server}` : undefined;
  const notRun = typeof capabilities.notRun === 'string' ? capabilities.notRun : undefined;
  const results: LayerResults = {
    schema: RESULTS_SCHEMA,
    layer: plan.layer,
    ...(options.shard ? { shard: options.shard } : {}),
    run: {
      seed: options.seed,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      ...(backend ? { backend } : {}),
      ...(notRun ? { notRun } : {}),
      capabilities,
      versions: toolVersions(),
      ...(options.issue ? { issueFilter: options.issue } : {}),
      host: hostname(),
      runId: options.runId,
      matrixDigest: options.matrixDigest,
      ...(interrupt
        ? { interrupted: { signal: interrupt.signal, stopped: stopped.size, containers: containers.removed.length } }
        : {}),
    },
    projects,
    tests: uniqueTestIds(tests),
    errors,
    ...(unattributed.length ? { unattributed } : {}),
  };
  options.progress.layerEnd(plan, results);
  return results;
}
