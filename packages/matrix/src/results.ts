import type { FaultEvidence } from '@faultline/evidence';

/** Bumped when the results file changes shape; readers refuse other versions. */
export const RESULTS_SCHEMA = 'faultline/results@1';

export type TestState = 'passed' | 'failed' | 'skipped';

export interface TestError {
  message: string;
  stack?: string;
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
  flaky: boolean;
  evidence: FaultEvidence[];
  errors: TestError[];
  /** Console output of the test, truncated. */
  output?: string;
  /** Why a skipped test was skipped (`ctx.skip(note)`), e.g. "no container runtime". */
  note?: string;
}

/** A test file that failed as a whole: did not load, was killed at the layer timeout, crashed. */
export interface FileError {
  project: string;
  file: string;
  kind: 'load' | 'timeout' | 'crash' | 'unhandled';
  message: string;
}

export interface ProjectRun {
  name: string;
  /** Workspace-relative directory. */
  dir: string;
  tests: number;
  durationMs: number;
  outcome: 'completed' | 'timeout' | 'crashed' | 'not-run';
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
  /** A merge of shards (`merge --allow-partial`): the shard count and the shards that did run. */
  shards?: { count: number; ran: number[] };
}

export interface LayerResults {
  schema: typeof RESULTS_SCHEMA;
  layer: string;
  shard?: { index: number; count: number };
  run: RunMeta;
  projects: ProjectRun[];
  tests: TestRecord[];
  errors: FileError[];
}
