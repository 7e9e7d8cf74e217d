import { relative, sep } from 'node:path';
import type { FaultEvidence } from '@faultline/evidence';
import {
  cut,
  didYouMean,
  type FileError,
  type TestRecord,
  type TestState,
  type UnattributedEvidence,
} from '@faultline/matrix';
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSpecification } from 'vitest/node';
import type { FaultlineAttempt } from './meta.ts';
import './meta.ts';

/** What the reporter emits, in order, while a project runs. */
export type ReporterEvent =
  | { type: 'run-start'; files: number }
  | { type: 'module-start'; file: string }
  | { type: 'test'; test: TestRecord }
  | { type: 'module-end'; file: string; state: string }
  | { type: 'file-error'; error: FileError }
  | ({ type: 'unattributed' } & UnattributedEvidence)
  | { type: 'run-end'; reason: TestRunEndReason };

export interface FaultlineReporterOptions {
  /** Project name recorded on each test (the matrix's project name). */
  project: string;
  /** Workspace root: files are recorded relative to it. */
  root: string;
  /** Receives every event as it happens (the runner forwards them to its parent). */
  onEvent: (event: ReporterEvent) => void;
  /** Console output kept per test, in characters. Default 64 KiB. */
  maxOutput?: number;
}

const toPosix = (p: string) => p.split(sep).join('/');

// Colour codes vitest leaves in an assertion's diff.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const MAX_DIFF = 8 * 1024;

/** What vitest's serialised errors carry that we keep. */
interface VitestError {
  message?: string;
  stack?: string;
  diff?: string;
  stacks?: ReadonlyArray<{ file: string; line: number }>;
}

// vitest's strictTags error: `The tag "x" is not defined in the configuration. Available tags are:\n- id: ...`
const UNKNOWN_TAG = /^The tag "([^"]*)" is not defined in the configuration\. Available tags are:\n([\s\S]*)$/;

/** The line of the module an error's stack points at (the test call that threw), if any. */
function lineIn(error: VitestError, moduleId: string): number | undefined {
  const frame = error.stacks?.find((s) => s.file === moduleId);
  if (frame) return frame.line;
  const escaped = moduleId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+):\\d+`).exec(error.stack ?? '');
  return m ? Number(m[1]) : undefined;
}

/** An unknown tag said the way a faultline user needs it: where, the nearest issue id, what tags are. */
function unknownTagMessage(message: string, where: string): string | undefined {
  const m = UNKNOWN_TAG.exec(message);
  if (!m) return undefined;
  const tag = m[1] ?? '';
  const ids = (m[2] ?? '').split('\n').flatMap((l) => /^- ([^:\s]+)/.exec(l)?.[1] ?? []);
  const issues = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, and ${ids.length - 12} more` : ids.join(', ');
  return `unknown tag "${tag}" at ${where}${didYouMean(tag, ids)}: a tag links a test to the matrix issue of that id (issues: ${issues})`;
}

/** Every attempt's evidence; numbered by attempt when the test ran more than once. */
function attemptsEvidence(attempts: readonly FaultlineAttempt[]): FaultEvidence[] {
  if (attempts.length === 1) return attempts[0]!.evidence;
  return attempts.flatMap((a, attempt) => a.evidence.map((e) => ({ ...e, attempt })));
}

/** The faultline state of a finished test: vitest's result, options and retries. */
function stateOf(testCase: TestCase): TestState {
  const result = testCase.result();
  const { mode, fails } = testCase.options;
  if (result.state === 'failed') return 'failed';
  if (result.state === 'passed') {
    // vitest reports a test.fails that failed as passed: here it is a known-broken protection.
    if (fails) return 'expected-fail';
    return (testCase.diagnostic()?.retryCount ?? 0) > 0 ? 'flaky' : 'passed';
  }
  if (mode === 'todo') return 'todo';
  // Only a test that ran and skipped itself with a reason says "this cannot run here".
  if (mode === 'run' && result.state === 'skipped' && result.note) return 'not-run';
  return 'skipped';
}

/**
 * A vitest reporter that turns each finished test into a faultline TestRecord (tags, location,
 * retries, evidence from `task.meta`) and each failed module into a FileError.
 */
export class FaultlineReporter implements Reporter {
  readonly #options: FaultlineReporterOptions;

  constructor(options: FaultlineReporterOptions) {
    this.#options = options;
  }

  #file(moduleId: string): string {
    return toPosix(relative(this.#options.root, moduleId));
  }

  /** How many test files will run (a file of several projects or pools counts once): progress shows done of total. */
  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    const files = new Set(specifications.map((s) => s.moduleId));
    this.#options.onEvent({ type: 'run-start', files: files.size });
  }

  onTestModuleStart(module: TestModule): void {
    this.#options.onEvent({ type: 'module-start', file: this.#file(module.moduleId) });
  }

  onTestCaseResult(testCase: TestCase): void {
    this.#options.onEvent({ type: 'test', test: this.toRecord(testCase) });
  }

  onTestModuleEnd(module: TestModule): void {
    const file = this.#file(module.moduleId);
    for (const error of module.errors()) {
      this.#options.onEvent({ type: 'file-error', error: this.#loadError(error, module.moduleId, file) });
    }
    const unattributed = module.meta().faultline?.unattributed;
    if (unattributed?.evidence.length) {
      this.#options.onEvent({
        type: 'unattributed',
        project: this.#options.project,
        file,
        evidence: unattributed.evidence,
      });
    }
    this.#options.onEvent({ type: 'module-end', file, state: module.state() });
  }

  #loadError(error: VitestError, moduleId: string, file: string): FileError {
    const line = lineIn(error, moduleId);
    const raw = error.message ?? String(error);
    const message = unknownTagMessage(raw, line ? `${file}:${line}` : file) ?? raw;
    return { project: this.#options.project, file, ...(line ? { line } : {}), kind: 'load', message };
  }

  onTestRunEnd(
    _modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<{ message?: string; stack?: string; VITEST_TEST_PATH?: string }>,
    reason: TestRunEndReason,
  ): void {
    for (const error of unhandledErrors) {
      this.#options.onEvent({
        type: 'file-error',
        error: {
          project: this.#options.project,
          // Vitest names the test file an error escaped from (a write to a closed stdout, a stray timer).
          file: error.VITEST_TEST_PATH ? this.#file(error.VITEST_TEST_PATH) : '(unhandled)',
          kind: 'unhandled',
          message: error.message ?? 'unhandled error',
        },
      });
    }
    this.#options.onEvent({ type: 'run-end', reason });
  }

  /** The faultline record of one finished test. */
  toRecord(testCase: TestCase): TestRecord {
    const result = testCase.result();
    const diagnostic = testCase.diagnostic();
    const meta = testCase.meta().faultline;
    const file = this.#file(testCase.module.moduleId);
    const maxOutput = this.#options.maxOutput ?? 64 * 1024;
    let output = testCase
      .logs()
      .map((l) => l.content)
      .join('');
    if (output.length > maxOutput)
      output = `${output.slice(0, maxOutput)}\n… (${output.length - maxOutput} more characters)`;
    const state = stateOf(testCase);
    return {
      id: `${this.#options.project}::${file}::${testCase.fullName}`,
      project: this.#options.project,
      file,
      line: testCase.location?.line ?? 1,
      column: testCase.location?.column ?? 1,
      name: testCase.name,
      fullName: testCase.fullName,
      tags: [...testCase.tags],
      state,
      durationMs: Math.round(diagnostic?.duration ?? 0),
      retryCount: diagnostic?.retryCount ?? 0,
      flaky: state === 'flaky',
      evidence: attemptsEvidence(meta?.attempts ?? [{ evidence: [], dropped: 0 }]),
      errors: (result.errors ?? []).map((e) => ({
        message: e.message ?? String(e),
        ...(e.stack ? { stack: e.stack } : {}),
        ...(e.diff ? { diff: cut(e.diff.replace(ANSI, ''), MAX_DIFF) } : {}),
      })),
      ...(output ? { output } : {}),
      ...(result.state === 'skipped' && result.note ? { note: result.note } : {}),
    };
  }
}
