import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileError, ProjectRun, TestRecord, UnattributedEvidence } from '@faultline/matrix';
import type { ExecuteOptions, ProjectOutcome } from './execute.ts';
import { layerEnv } from './layer-env.ts';
import type { LayerPlan } from './plan.ts';
import { type Supervised, supervise } from './supervise.ts';
import type { WorkerJob, WorkerMessage } from './worker-protocol.ts';

type Project = LayerPlan['projects'][number];

// Beside this module: `.ts` when the workspace runs sources, `.js` when installed (built).
const workerFile = fileURLToPath(new URL(`./vitest-worker${extname(import.meta.url)}`, import.meta.url));

/** What the worker reported: its tests, file errors and evidence, the files still running, how it ended. */
interface Collected {
  tests: TestRecord[];
  errors: FileError[];
  unattributed: UnattributedEvidence[];
  running: Set<string>;
  done?: { exitCode: number };
  fatal?: string;
}

/** The worker process for one project: vitest through its API, in its own process group. */
function startWorker(
  execaNode: typeof import('execa').execaNode,
  plan: LayerPlan,
  project: Project,
  options: ExecuteOptions,
  layerRunDir: string,
  attemptId: string,
) {
  const job: WorkerJob = {
    project: project.name,
    dir: project.dir,
    root: options.root,
    seed: options.seed,
    ...(options.issue ? { issue: options.issue } : {}),
    ...(options.files ? { files: [...options.files] } : {}),
    ...(options.shard ? { shard: `${options.shard.index}/${options.shard.count}` } : {}),
  };
  return execaNode(workerFile, [], {
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
}

/** Folds one worker message into what was collected, and forwards it to the progress display. */
function collect(into: Collected, message: WorkerMessage, plan: LayerPlan, project: Project, options: ExecuteOptions) {
  switch (message.type) {
    case 'module-start':
      into.running.add(message.file);
      break;
    case 'module-end':
      into.running.delete(message.file);
      break;
    case 'test':
      // Under --issue, vitest reports the filtered-out tests as skipped; they were not asked for.
      if (options.issue && !message.test.tags.includes(options.issue)) return;
      into.tests.push(message.test);
      break;
    case 'file-error':
      into.errors.push(message.error);
      break;
    case 'unattributed':
      into.unattributed.push({ project: message.project, file: message.file, evidence: message.evidence });
      break;
    case 'done':
      into.done = { exitCode: message.exitCode };
      break;
    case 'fatal':
      into.fatal = message.message;
      break;
    default:
      break;
  }
  options.progress.event(plan.layer, project.name, message);
}

/** One error per file that was running when the project ended early (or the project's dir if none was). */
function runningErrors(c: Collected, project: Project, kind: FileError['kind'], message: string): FileError[] {
  const files = c.running.size ? [...c.running] : [project.relDir];
  const where = c.running.size ? ' while this file was running' : '';
  return files.map((file) => ({ project: project.name, file, kind, message: `${message}${where}` }));
}

/** How the project ended: interrupted, timed out, crashed (the worker died or never said done), or completed. */
function judge(c: Collected, ran: Supervised, plan: LayerPlan, project: Project) {
  if (ran.interrupted) {
    const reason = `stopped by ${ran.interrupted}`;
    return { outcome: 'interrupted' as const, reason, errors: runningErrors(c, project, 'interrupted', reason) };
  }
  if (ran.timedOut) {
    const reason = `killed at the layer timeout (${Math.round(plan.timeoutMs / 1000)}s)`;
    return { outcome: 'timeout' as const, reason, errors: runningErrors(c, project, 'timeout', reason) };
  }
  if (c.fatal === undefined && c.done) return { outcome: 'completed' as const, errors: [] };
  const reason = c.fatal ?? `vitest worker exited (${ran.signal ?? `code ${ran.exitCode}`}) before finishing`;
  // The files that were running are the suspects (a test that killed its own process group).
  const errors = runningErrors(c, project, 'crash', reason).map((e) =>
    ran.stderrTail ? { ...e, message: `${e.message}\n${ran.stderrTail}` } : e,
  );
  return { outcome: 'crashed' as const, reason, errors };
}

/**
 * Runs one vitest project of a layer in a worker process (its own process group) under the layer's
 * deadline and the run's interrupt, and returns its tests, file errors and evidence as they arrived.
 */
export async function runVitestProject(
  plan: LayerPlan,
  project: Project,
  options: ExecuteOptions,
  deadline: number,
  layerRunDir: string,
  attemptId: string,
  stopped: Set<number>,
): Promise<ProjectOutcome> {
  const started = Date.now();
  const collected: Collected = { tests: [], errors: [], unattributed: [], running: new Set() };
  // execa loads when a vitest project runs, not when the CLI starts.
  const { execaNode } = await import('execa');
  const child = startWorker(execaNode, plan, project, options, layerRunDir, attemptId);
  const messages = (async () => {
    for await (const m of child.getEachMessage())
      collect(collected, m as unknown as WorkerMessage, plan, project, options);
  })().catch(() => {
    // The IPC channel breaks when the worker is killed; results so far are kept.
  });
  const ran = await supervise(child, { deadline, signal: options.signal, attemptId, stopped });
  await messages;
  const verdict = judge(collected, ran, plan, project);
  const run: ProjectRun = {
    name: project.name,
    dir: project.relDir,
    tests: collected.tests.length,
    durationMs: Date.now() - started,
    outcome: verdict.outcome,
    ...(verdict.reason ? { reason: verdict.reason } : {}),
  };
  return {
    run,
    tests: collected.tests,
    errors: [...collected.errors, ...verdict.errors],
    unattributed: collected.unattributed,
  };
}
