import type { FaultEvidence } from '@faultline/evidence';

/** Bumped when the results file changes shape; readers refuse other versions. */
export const RESULTS_SCHEMA = 'faultline/results@1';

/**
 * How a test ended. Only `passed` can cover a cell. `flaky`: passed only after a retry (vitest
 * `retry`); `expected-fail`: a `test.fails` that failed as declared, i.e. a protection known
 * broken; `skipped`: `test.skip`, `.only` elsewhere, `ctx.skip()` without a reason; `todo`:
 * `test.todo`; `not-run`: skipped itself at run time with a reason (`ctx.skip('no container
 * runtime')`), the one skip that says the layer could not run here.
 */
export const testStates = ['passed', 'failed', 'flaky', 'expected-fail', 'skipped', 'todo', 'not-run'] as const;
export type TestState = (typeof testStates)[number];

/** The plain passed/failed/skipped count a test adds to progress lines and totals. */
export function testOutcome(state: TestState): 'passed' | 'failed' | 'skipped' {
  if (state === 'passed' || state === 'flaky' || state === 'expected-fail') return 'passed';
  return state === 'failed' ? 'failed' : 'skipped';
}

/** Evidence recorded outside any test's code path in one file: shown, covers nothing. */
export interface UnattributedEvidence {
  project: string;
  file: string;
  evidence: FaultEvidence[];
}

export interface TestError {
  message: string;
  stack?: string;
  /** The expected/received diff of an assertion, when the assertion library gave one. */
  diff?: string;
}

/**
 * One attempt of a test under `faultline run --repeat N`: its seed (the attempt's `FAULTLINE_SEED`) and
 * how it ended. The test record itself is the merge of all attempts (see `TestRecord.attempts`).
 */
export interface TestAttempt {
  attempt: number;
  seed: number;
  state: TestState;
  durationMs: number;
  evidence: number;
  errors: TestError[];
}

/** One test as run, with what it proved. */
export interface TestRecord {
  /** Stable across runs: project, file and full name. */
  id: string;
  project: string;
  /** Workspace-relative POSIX path. */
  file: string;
  line: number;
  column: number;
  name: string;
  /** Suite names and test name joined with " > ". */
  fullName: string;
  /** Vitest tags; issue ids among them link the test to matrix cells. */
  tags: string[];
  state: TestState;
  durationMs: number;
  retryCount: number;
  /** Same as `state === 'flaky'` (kept for readers of older results). */
  flaky: boolean;
  evidence: FaultEvidence[];
  errors: TestError[];
  /** Console output of the test, truncated. */
  output?: string;
  /** Why a skipped test was skipped (`ctx.skip(note)`), e.g. "no container runtime". */
  note?: string;
  /**
   * Under `--repeat N`: every attempt, in order. The record's state is `passed` or `failed` when all
   * attempts agree, `flaky` when some passed and some failed; its evidence is a passing attempt's.
   */
  attempts?: TestAttempt[];
}

/** A test file that failed as a whole: did not load, was killed at the layer timeout, crashed. */
export interface FileError {
  project: string;
  file: string;
  kind: 'load' | 'timeout' | 'crash' | 'unhandled' | 'interrupted';
  message: string;
  /** The line the error points at in the file, when known (e.g. the test with an unknown tag). */
  line?: number;
}

export interface ProjectRun {
  name: string;
  /** Workspace-relative directory. */
  dir: string;
  tests: number;
  durationMs: number;
  /** `interrupted`: `faultline run` got SIGINT/SIGTERM while (or before) this project ran; never a pass. */
  outcome: 'completed' | 'timeout' | 'crashed' | 'not-run' | 'interrupted';
  reason?: string;
}

export interface RunMeta {
  seed: number;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Layer-3 network backend actually used, when the layer has one. */
  backend?: string;
  /** Why the whole layer did not run (e.g. no container runtime for backend: containers). */
  notRun?: string;
  capabilities: Record<string, string | boolean>;
  versions: Record<string, string>;
  /** Only tests tagged with this issue ran (`--issue`): the layer's other cells did not run. */
  issueFilter?: string;
  host?: string;
  /**
   * The run this file belongs to (`--run-id`, `FAULTLINE_RUN_ID`, else generated): the files of one
   * layer must share it, so a stale shard of another run is never read with this one.
   */
  runId?: string;
  /** `sha256:<hex>` of the matrix file the run used; results are only gated against that matrix. */
  matrixDigest?: string;
  /** `run --repeat N`: the attempts' seeds, in order (attempt 1's is the run's seed). */
  repeat?: { count: number; seeds: number[] };
  /** A merge of shards (`merge --allow-partial`): the shard count and the shards that did run. */
  shards?: { count: number; ran: number[] };
  /**
   * The run was stopped by a signal while this layer ran: its tests are only those that ended before,
   * and every cell of the layer that did not fail is `not-run` (see `layerGaps`), never covered.
   */
  interrupted?: {
    signal: string;
    stopped: number;
    /** Containers the attempt's tests had started, removed through the engine (absent in older files). */
    containers?: number;
  };
}

export interface LayerResults {
  schema: typeof RESULTS_SCHEMA;
  layer: string;
  shard?: { index: number; count: number };
  run: RunMeta;
  projects: ProjectRun[];
  tests: TestRecord[];
  errors: FileError[];
  /** Evidence no test could be held to (fired in hooks, or by shared code while several tests ran). */
  unattributed?: UnattributedEvidence[];
}
