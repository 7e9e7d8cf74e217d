import { relative, sep } from 'node:path';
import type { FileError, TestRecord } from '@faultline/matrix';
import type { Reporter, TestCase, TestModule, TestRunEndReason } from 'vitest/node';
import './meta.ts';

/** What the reporter emits, in order, while a project runs. */
export type ReporterEvent =
  | { type: 'module-start'; file: string }
  | { type: 'test'; test: TestRecord }
  | { type: 'module-end'; file: string; state: string }
  | { type: 'file-error'; error: FileError }
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

  onTestModuleStart(module: TestModule): void {
    this.#options.onEvent({ type: 'module-start', file: this.#file(module.moduleId) });
  }

  onTestCaseResult(testCase: TestCase): void {
    this.#options.onEvent({ type: 'test', test: this.toRecord(testCase) });
  }

  onTestModuleEnd(module: TestModule): void {
    const file = this.#file(module.moduleId);
    for (const error of module.errors()) {
      this.#options.onEvent({
        type: 'file-error',
        error: { project: this.#options.project, file, kind: 'load', message: error.message ?? String(error) },
      });
    }
    this.#options.onEvent({ type: 'module-end', file, state: module.state() });
  }

  onTestRunEnd(
    _modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<{ message?: string; stack?: string }>,
    reason: TestRunEndReason,
  ): void {
    for (const error of unhandledErrors) {
      this.#options.onEvent({
        type: 'file-error',
        error: {
          project: this.#options.project,
          file: '(unhandled)',
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
    const state = result.state === 'passed' || result.state === 'failed' ? result.state : 'skipped';
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
      flaky: diagnostic?.flaky ?? false,
      evidence: meta?.evidence ?? [],
      errors: (result.errors ?? []).map((e) => ({
        message: e.message ?? String(e),
        ...(e.stack ? { stack: e.stack } : {}),
      })),
      ...(output ? { output } : {}),
      ...(result.state === 'skipped' && result.note ? { note: result.note } : {}),
    };
  }
}
