import type { ReporterEvent } from '@faultline/vitest';

/** What the runner tells a vitest worker process to run (passed as JSON in FAULTLINE_WORKER_JOB). */
export interface WorkerJob {
  project: string;
  /** Absolute project directory (vitest root). */
  dir: string;
  /** Absolute workspace root (files are reported relative to it). */
  root: string;
  seed: number;
  /** Only tests tagged with this issue. */
  issue?: string;
  /** Only these test files (absolute paths; `faultline verify` runs the files of one cell). */
  files?: string[];
  /** vitest --shard, e.g. "1/3". */
  shard?: string;
}

/** Messages from the worker over IPC: reporter events, then `done`. */
export type WorkerMessage = ReporterEvent | { type: 'done'; exitCode: number } | { type: 'fatal'; message: string };
