import type { ResultFormat, TestError, TestState } from '@faultline/matrix';

/** One test as a results format reports it, before faultline links it to the matrix. */
export interface IngestedTest {
  /** The test's name exactly as the format reports it: what an evidence line's `test` names. */
  name: string;
  /** The suite, class or package it belongs to (JUnit `classname`, Go package), when the format has one. */
  suite?: string;
  /** Source file relative to the command's cwd, posix, when the format (or its failure output) says. */
  file?: string;
  line?: number;
  state: TestState;
  durationMs: number;
  errors: TestError[];
  output?: string;
  /** Why a skipped test was skipped. */
  note?: string;
  /** Issue ids the format carried as data (JUnit `<property name="faultline.issue">`). */
  issues: string[];
}

/** Reads one results format. `text` is the results file, or the command's stdout for the JSON formats. */
export interface ResultsReader {
  format: ResultFormat;
  /** Whether the format is written to stdout when no `results.path` is given. */
  stdout: boolean;
  read(text: string): IngestedTest[];
}
