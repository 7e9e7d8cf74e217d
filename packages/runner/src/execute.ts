import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileError, LayerResults, ProjectRun, TestRecord, UnattributedEvidence } from '@faultline/matrix';
import { RESULTS_SCHEMA } from '@faultline/matrix';
import { execaNode } from 'execa';
import { broken } from './breaks.ts';
import { runCommandProject } from './command-project.ts';
import { interruptOf } from './interrupt.ts';
import { killTree } from './kill-tree.ts';
import { layerEnv } from './layer-env.ts';
import type { LayerPlan } from './plan.ts';
import type { ProgressSink } from './progress.ts';
import { reapAttempt } from './reap.ts';
import { uniqueTestIds } from './test-ids.ts';
import { toolVersions } from './versions.ts';
import type { WorkerJob, WorkerMessage } from './worker-protocol.ts';

// Beside this module: `.ts` when the workspace runs sources, `.js` when installed (built).
const workerFile = fileURLToPath(new URL(`./vitest-worker${extname(import.meta.url)}`, import.meta.url));
/** How much of a worker's stderr a crash report quotes. */
const STDERR_TAIL = 4000;

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

/**
 * Stops the worker's tree and every process of the attempt as soon as `signal` aborts (SIGKILL,
 * synchronously: a second signal may end faultline right after), adding their pids (but the worker's) to `stopped`.
 */
function stopOnAbort(
  signal: AbortSignal | undefined,
  pid: number | undefined,
  attemptId: string,
  stopped: Set<number>,
) {
  let received: string | undefined;
  const stop = () => {
    received = interruptOf(signal)?.signal ?? 'abort';
    // The worker itself is named apart ("stopped l2 worker and 7 processes").
    for (const p of [...(pid ? killTree(pid) : []), ...reapAttempt(attemptId)]) if (p !== pid) stopped.add(p);
  };
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  return {
    signal: () => received,
    dispose: () => signal?.removeEventListener('abort', stop),
  };
}

async function runProject(
  plan: LayerPlan,
  project: LayerPlan['projects'][number],
  options: ExecuteOptions,
  deadline: number,
  layerRunDir: string,
  attemptId: string,
  stopped: Set<number>,
): Promise<ProjectOutcome> {
  const started = Date.now();
  const tests: TestRecord[] = [];
  const unattributed: UnattributedEvidence[] = [];
  const errors: FileError[] = [];
  const running = new Set<string>();
  const job: WorkerJob = {
    project: project.name,
    dir: project.dir,
    root: options.root,
    seed: options.seed,
    ...(options.issue ? { issue: options.issue } : {}),
    ...(options.files ? { files: [...options.files] } : {}),
    ...(options.shard ? { shard: `${options.shard.index}/${options.shard.count}` } : {}),
  };
  const child = execaNode(workerFile, [], {
    cwd: project.dir,
    detached: true, // own process group: a timeout kills vitest and every test worker under it
    reject: false,
    stdout: 'inherit',
    // Not buffered by execa: a noisy suite past maxBuffer would get its worker killed. We pass
    // stderr through and keep only its tail for the crash message.
    stderr: 'pipe',
    buffer: false,
    env: { FAULTLINE_WORKER_JOB: JSON.stringify(job), ...layerEnv(plan, options, layerRunDir, attemptId) },
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-STDERR_TAIL);
  });
  let done: { exitCode: number } | undefined;
  let fatal: string | undefined;
  const onMessage = (message: WorkerMessage) => {
    switch (message.type) {
      case 'module-start':
        running.add(message.file);
        break;
      case 'module-end':
        running.delete(message.file);
        break;
      case 'test':
        // Under --issue, vitest reports the filtered-out tests as skipped; they were not asked for.
        if (options.issue && !message.test.tags.includes(options.issue)) return;
        tests.push(message.test);
        break;
      case 'file-error':
        errors.push(message.error);
        break;
      case 'unattributed':
        unattributed.push({ project: message.project, file: message.file, evidence: message.evidence });
        break;
      case 'done':
        done = { exitCode: message.exitCode };
        break;
      case 'fatal':
        fatal = message.message;
        break;
      default:
        break;
    }
    options.progress.event(plan.layer, project.name, message);
  };
  const messages = (async () => {
    for await (const message of child.getEachMessage()) onMessage(message as unknown as WorkerMessage);
  })().catch(() => {
    // The IPC channel breaks when the worker is killed; results so far are kept.
  });

  let timedOut = false;
  const timer = broken('noLayerTimeout')
    ? undefined
    : setTimeout(
        () => {
          timedOut = true;
          if (child.pid) killTree(child.pid);
        },
        Math.max(0, deadline - Date.now()),
      );
  const interrupted = stopOnAbort(options.signal, child.pid, attemptId, stopped);
  const result = await child;
  clearTimeout(timer);
  interrupted.dispose();
  await messages;
  // The process may exit before we have read all it wrote; a surviving grandchild can also hold
  // the pipe open, so the wait for the rest is bounded.
  const stderr = child.stderr;
  if (stderr && !stderr.readableEnded) {
    await new Promise<void>((resolve) => {
      // Interrupted: every process is already SIGKILLed and the user is waiting.
      const bound = setTimeout(resolve, interrupted.signal() ? 200 : 2000);
      stderr.once('close', () => {
        clearTimeout(bound);
        resolve();
      });
    });
  }

  let outcome: ProjectRun['outcome'] = 'completed';
  let reason: string | undefined;
  const timeoutText = `${Math.round(plan.timeoutMs / 1000)}s`;
  const signal = interrupted.signal();
  if (signal) {
    outcome = 'interrupted';
    reason = `stopped by ${signal}`;
    for (const file of [...running].concat(running.size ? [] : [project.relDir])) {
      errors.push({
        project: project.name,
        file,
        kind: 'interrupted',
        message: `${reason} while this file was running`,
      });
    }
  } else if (timedOut) {
    outcome = 'timeout';
    reason = `killed at the layer timeout (${timeoutText})`;
    for (const file of running) {
      errors.push({ project: project.name, file, kind: 'timeout', message: `${reason} while this file was running` });
    }
    if (running.size === 0) {
      errors.push({ project: project.name, file: project.relDir, kind: 'timeout', message: reason });
    }
  } else if (fatal !== undefined || !done) {
    outcome = 'crashed';
    reason = fatal ?? `vitest worker exited (${result.signal ?? `code ${result.exitCode}`}) before finishing`;
    const message = stderrTail ? `${reason}\n${stderrTail}` : reason;
    // The files that were running are the suspects (a test that killed its own process group).
    for (const file of running.size ? running : [project.relDir]) {
      const where = running.size ? ' while this file was running' : '';
      errors.push({
        project: project.name,
        file,
        kind: 'crash',
        message: `${reason}${where}${message.slice(reason.length)}`,
      });
    }
  }
  return {
    run: {
      name: project.name,
      dir: project.relDir,
      tests: tests.length,
      durationMs: Date.now() - started,
      outcome,
      ...(reason ? { reason } : {}),
    },
    tests,
    errors,
    unattributed,
  };
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
      : await runProject(plan, project, options, deadline, layerRunDir, attemptId, stopped);
    projects.push(outcome.run);
    tests.push(...outcome.tests);
    errors.push(...outcome.errors);
    unattributed.push(...outcome.unattributed);
  }

  if (!broken('noAttemptReap')) {
    for (const pid of reapAttempt(attemptId)) if (options.signal?.aborted) stopped.add(pid);
  }
  const interrupt = interruptOf(options.signal);
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
      ...(interrupt ? { interrupted: { signal: interrupt.signal, stopped: stopped.size } } : {}),
    },
    projects,
    tests: uniqueTestIds(tests),
    errors,
    ...(unattributed.length ? { unattributed } : {}),
  };
  options.progress.layerEnd(plan, results);
  return results;
}
