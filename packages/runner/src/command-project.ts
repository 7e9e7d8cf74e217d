// A layer project that is a test command in any language (`cargo test`, `go test -json`, pytest):
// run in its own process group under the layer deadline, its results file (or stdout) read by the
// format's reader, its evidence file (FAULTLINE_EVIDENCE_FILE) attributed to its tests, its issue
// claims checked against the matrix. Returns what runProject returns for a vitest project.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { EvidenceLog, type FaultEvidence } from '@faultline/evidence';
import type { CommandProjectSpec, FileError, ProjectRun, TestRecord, UnattributedEvidence } from '@faultline/matrix';
import { loadMatrix } from '@faultline/matrix';
import type { ExecuteOptions, ProjectOutcome } from './execute.ts';
import {
  bracketIssues,
  checkClaims,
  EVIDENCE_FILE_ENV,
  type EvidenceLine,
  type IngestedTest,
  ingestResults,
  parseEvidenceFile,
  readers,
} from './ingest/index.ts';
import { layerEnv } from './layer-env.ts';
import type { LayerPlan } from './plan.ts';
import { type Supervised, type SupervisedChild, supervise } from './supervise.ts';

/** Console output kept per test, as the vitest reporter keeps it. */
const MAX_OUTPUT = 64 * 1024;
const EVIDENCE_SOURCE = 'evidence-file';

type Project = LayerPlan['projects'][number];

// The matrix's issue ids, read once per matrix file version (a layer may hold many command projects).
let issueIdCache: { key: string; ids: ReadonlySet<string> } | undefined;
function matrixIssueIds(file: string): ReadonlySet<string> {
  const key = `${file}\u0000${statSync(file).mtimeMs}`;
  if (issueIdCache?.key !== key) {
    issueIdCache = { key, ids: new Set(loadMatrix(file).matrix.issues.map((i) => i.id)) };
  }
  return issueIdCache.ids;
}

/** `fn` run now; its value, or its error thrown, when asked for. */
function settleNow<T>(fn: () => T): () => T {
  try {
    const value = fn();
    return () => value;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

/** The names an evidence line's `test` may use for a test: its own, qualified by its suite, a pytest node id. */
function namesOf(t: IngestedTest): string[] {
  const names = [t.name];
  if (t.suite) names.push(`${t.suite}.${t.name}`, `${t.suite}::${t.name}`, `${t.suite}/${t.name}`);
  if (t.suite && t.file?.endsWith('.py')) {
    const module = t.file.slice(0, -3).replaceAll('/', '.');
    const inner = t.suite.startsWith(module) ? t.suite.slice(module.length).replace(/^\./, '') : '';
    names.push([t.file, ...(inner ? inner.split('.') : []), t.name].join('::'));
  }
  return names;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The shard the command runs under, or why it does not run in this shard. */
function shardPlan(spec: CommandProjectSpec, options: ExecuteOptions): { env: Record<string, string>; skip?: string } {
  const shard = options.shard;
  if (!shard) return { env: {} };
  const env = {
    FAULTLINE_SHARD: `${shard.index}/${shard.count}`,
    FAULTLINE_SHARD_INDEX: String(shard.index),
    FAULTLINE_SHARD_COUNT: String(shard.count),
  };
  if (spec.shard === 'env' || shard.index === 1) return { env };
  return {
    env,
    skip: `runs whole in shard 1/${shard.count} (shard: first); with shard: env the command picks its part from FAULTLINE_SHARD_INDEX/FAULTLINE_SHARD_COUNT`,
  };
}

interface Linked {
  tests: TestRecord[];
  errors: FileError[];
  unattributed: UnattributedEvidence[];
}

/** Turns ingested tests into test records: evidence lines attributed by name, claims checked against the matrix. */
function link(
  ingested: readonly IngestedTest[],
  lines: readonly EvidenceLine[],
  project: Project,
  issueIds: ReadonlySet<string>,
  issueFilter: string | undefined,
): Linked {
  const byName = new Map<string, IngestedTest[]>();
  for (const t of ingested) {
    for (const n of new Set(namesOf(t))) byName.set(n, [...(byName.get(n) ?? []), t]);
  }
  const logs = new Map<IngestedTest, EvidenceLog>();
  const claims = new Map<IngestedTest, string[]>();
  const stray = new EvidenceLog();
  for (const line of lines) {
    const owners = byName.get(line.test);
    if (!owners) {
      if (line.evidence) stray.record({ ...line.evidence, detail: `${line.evidence.detail} (test "${line.test}")` });
      continue;
    }
    for (const t of owners) {
      if (line.evidence) {
        const log = logs.get(t) ?? new EvidenceLog();
        log.record(line.evidence);
        logs.set(t, log);
      }
      claims.set(t, [...(claims.get(t) ?? []), ...line.issues]);
    }
  }
  const errors: FileError[] = [];
  const tests: TestRecord[] = [];
  for (const t of ingested) {
    const file = t.file ? posix.join(project.relDir, t.file) : project.relDir;
    const fullName = t.suite ? `${t.suite} > ${t.name}` : t.name;
    const where = `test "${t.name}" at ${file}${t.line ? `:${t.line}` : ''}`;
    const claimed = [...bracketIssues(t.name), ...t.issues, ...(claims.get(t) ?? [])];
    const { tags, unknown } = checkClaims(claimed, issueIds, where);
    for (const message of unknown) {
      errors.push({ project: project.name, file, kind: 'load', message, ...(t.line ? { line: t.line } : {}) });
    }
    if (issueFilter && !tags.includes(issueFilter)) continue;
    const evidence: FaultEvidence[] = logs.get(t)?.entries ?? [];
    tests.push({
      id: `${project.name}::${file}::${fullName}`,
      project: project.name,
      file,
      line: t.line ?? 0,
      column: 0,
      name: t.name,
      fullName,
      tags,
      state: t.state,
      durationMs: t.durationMs,
      retryCount: 0,
      flaky: false,
      evidence,
      errors: t.errors,
      ...(t.output ? { output: t.output.slice(0, MAX_OUTPUT) } : {}),
      ...(t.note ? { note: t.note } : {}),
    });
  }
  const unattributed = stray.entries.length
    ? [{ project: project.name, file: project.relDir, evidence: stray.entries }]
    : [];
  return { tests, errors, unattributed };
}

/** Tells the progress display what ran, file by file, as a vitest worker would have while running. */
function reportProgress(
  layer: string,
  project: string,
  options: ExecuteOptions,
  tests: readonly TestRecord[],
  errors: readonly FileError[],
): void {
  const files = [...new Set([...tests.map((t) => t.file), ...errors.map((e) => e.file)])];
  const send = (message: Parameters<ExecuteOptions['progress']['event']>[2]) =>
    options.progress.event(layer, project, message);
  send({ type: 'run-start', files: files.length });
  for (const file of files) {
    send({ type: 'module-start', file });
    const own = tests.filter((t) => t.file === file);
    for (const test of own) send({ type: 'test', test });
    for (const error of errors.filter((e) => e.file === file)) send({ type: 'file-error', error });
    const failed = own.some((t) => t.state === 'failed') || errors.some((e) => e.file === file);
    send({ type: 'module-end', file, state: failed ? 'failed' : 'passed' });
  }
}

/** Runs the command in its own process group until it exits or the deadline passes (then its tree is killed). */
async function runCommand(
  spec: CommandProjectSpec,
  project: Project,
  env: Record<string, string>,
  stdoutFile: string | undefined,
  deadline: number,
  signal: AbortSignal | undefined,
  attemptId: string,
  stopped: Set<number>,
): Promise<Supervised> {
  // The child writes its stdout straight into the file (a descriptor, not a stream through Node): no
  // copying, so a JSON-printing test runner costs what it costs bare.
  const stdoutFd = stdoutFile ? openSync(stdoutFile, 'w') : undefined;
  // A plain spawn: execa would add nothing here (nothing buffered, no rejection) but ~0.1 s of start-up.
  const child = spawn('/bin/sh', ['-c', spec.command], {
    cwd: project.dir,
    detached: true, // own process group: a timeout kills the command and everything it started
    stdio: ['ignore', stdoutFd ?? 'inherit', 'pipe'],
    env: { ...process.env, ...env },
  });
  try {
    return await supervise(supervised(child, spec.command), { deadline, signal, attemptId, stopped });
  } finally {
    if (stdoutFd !== undefined) closeSync(stdoutFd);
  }
}

/**
 * The child as supervise watches it: done when it exits (stderr a grandchild holds open is supervise's
 * bounded wait, not ours). A command that cannot start at all (a missing cwd) ends with no exit code.
 */
function supervised(child: ReturnType<typeof spawn>, command: string): SupervisedChild {
  const ended = new Promise<Awaited<SupervisedChild>>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? { signal } : { exitCode: code ?? undefined }));
    child.once('error', (error) => {
      process.stderr.write(`faultline: cannot start ${command}: ${error.message}\n`);
      resolve({});
    });
  });
  return Object.assign(ended, { pid: child.pid, stderr: child.stderr });
}

/** How the command ended, as a project outcome: interrupted, timed out, crashed (no results), or completed. */
function judge(
  ran: Supervised,
  spec: CommandProjectSpec,
  plan: LayerPlan,
  tests: number,
  unreadable: string | undefined,
  toFile: boolean,
): { outcome: ProjectRun['outcome']; reason?: string; error?: Pick<FileError, 'kind' | 'message'> } {
  if (ran.interrupted) {
    const reason = `stopped by ${ran.interrupted}`;
    const message = `${reason} while ${spec.command} was running`;
    return { outcome: 'interrupted', reason, error: { kind: 'interrupted', message } };
  }
  if (ran.timedOut) {
    const reason = `killed at the layer timeout (${Math.round(plan.timeoutMs / 1000)}s)`;
    return { outcome: 'timeout', reason, error: { kind: 'timeout', message: `${reason}: ${spec.command}` } };
  }
  if (unreadable === undefined && tests > 0) return { outcome: 'completed' };
  // A command that reported no test did not run its suite (a build error, a wrong path): never a pass.
  const missing = toFile ? `wrote no results at ${spec.results.path}` : `printed no ${spec.results.format} on stdout`;
  const reason = `${spec.command} (${ran.exit}) ${unreadable ?? missing}`;
  const message = ran.stderrTail ? `${reason}\n${ran.stderrTail}` : reason;
  return { outcome: 'crashed', reason, error: { kind: 'crash', message } };
}

/**
 * Runs one command project of a layer: the same outcome as a vitest project's (tests with evidence,
 * file errors, unattributed evidence, the project's run). The command sees FAULTLINE_SEED,
 * FAULTLINE_LAYER, FAULTLINE_RUN_DIR, FAULTLINE_ATTEMPT_ID, FAULTLINE_EVIDENCE_FILE and, under
 * `--shard`, FAULTLINE_SHARD (`i/n`), FAULTLINE_SHARD_INDEX and FAULTLINE_SHARD_COUNT.
 */
export async function runCommandProject(
  plan: LayerPlan,
  project: Project,
  options: ExecuteOptions,
  deadline: number,
  layerRunDir: string,
  attemptId: string,
  stopped: Set<number> = new Set(),
): Promise<ProjectOutcome> {
  const spec = project.command;
  if (!spec) throw new Error(`project ${project.name} is not a command project`);
  const started = Date.now();
  const shard = shardPlan(spec, options);
  const base = { name: project.name, dir: project.relDir };
  if (shard.skip) {
    return {
      run: { ...base, tests: 0, durationMs: 0, outcome: 'not-run', reason: shard.skip },
      tests: [],
      errors: [],
      unattributed: [],
    };
  }
  const safe = project.name.replace(/[^A-Za-z0-9._-]/g, '_');
  const evidenceFile = join(layerRunDir, `${safe}.evidence.jsonl`);
  closeSync(openSync(evidenceFile, 'w'));
  const reader = readers[spec.results.format];
  const resultsFile = spec.results.path ? resolve(project.dir, spec.results.path) : undefined;
  // A results file left by an earlier run must never be read as this run's.
  if (resultsFile) rmSync(resultsFile, { force: true });
  const stdoutFile = !resultsFile && reader.stdout ? join(layerRunDir, `${safe}.stdout`) : undefined;
  const env = {
    ...spec.env,
    ...layerEnv(plan, options, layerRunDir, attemptId),
    [EVIDENCE_FILE_ENV]: evidenceFile,
    ...shard.env,
  };
  options.progress.event(plan.layer, project.name, { type: 'module-start', file: project.relDir });
  const running = runCommand(spec, project, env, stdoutFile, deadline, options.signal, attemptId, stopped);
  // Read while the command runs (its own process): the ids cost a matrix load (~7 ms) that would
  // otherwise add to the time after it exits. A load that fails throws below, where it always did.
  const issueIds = settleNow(() => matrixIssueIds(options.matrixFile));
  // Likewise the first localeCompare builds ICU's collator (~15 ms): executeLayer sorts the tests with it
  // (uniqueTestIds) after the command exits. Built now, that sort costs microseconds.
  'a'.localeCompare('b');
  const ran = await running;

  const errors: FileError[] = [];
  const text = readText(resultsFile ?? stdoutFile ?? '');
  let ingested: IngestedTest[] = [];
  let unreadable: string | undefined;
  try {
    ingested = text === undefined ? [] : ingestResults(spec.results.format, text, project.dir);
  } catch (error) {
    unreadable = `${spec.results.path ?? 'stdout'} is not ${spec.results.format}: ${(error as Error).message}`;
  }
  const lines = parseEvidenceFile(readText(evidenceFile) ?? '', EVIDENCE_SOURCE);
  const linked = link(ingested, lines, project, issueIds(), options.issue);
  errors.push(...linked.errors);

  const verdict = judge(ran, spec, plan, ingested.length, unreadable, resultsFile !== undefined);
  if (verdict.error) errors.push({ project: project.name, file: project.relDir, ...verdict.error });
  const { outcome, reason } = verdict;
  reportProgress(plan.layer, project.name, options, linked.tests, errors);
  return {
    run: {
      ...base,
      tests: linked.tests.length,
      durationMs: Date.now() - started,
      outcome,
      ...(reason ? { reason } : {}),
    },
    tests: linked.tests,
    errors,
    unattributed: linked.unattributed,
  };
}
