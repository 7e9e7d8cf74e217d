export { writeFileAtomic } from './atomic.ts';
export type { RunnerBreak } from './breaks.ts';
export { broken, RUNNER_BREAKS } from './breaks.ts';
export { runCommandProject } from './command-project.ts';
export type { ContainerReap } from './container-reap.ts';
export { reapAttemptContainers } from './container-reap.ts';
export type { ExecuteOptions, ProjectOutcome } from './execute.ts';
export { executeLayer } from './execute.ts';
export type { ResultsEntry } from './identity.ts';
export { matrixDigest, readResultsEntries, resultsSetProblems, runIdFor, supersede } from './identity.ts';
export type { EvidenceLine, IngestedTest } from './ingest/index.ts';
export { bracketIssues, EVIDENCE_FILE_ENV, ISSUE_PROPERTY, ingestResults, parseEvidenceFile } from './ingest/index.ts';
export type { Interrupted, InterruptHandle, InterruptSignal } from './interrupt.ts';
export { INTERRUPT_EXIT, interruptOf, interruptOnSignals } from './interrupt.ts';
export type { MergeOutcome, MergeProblem } from './merge.ts';
export { mergeResults } from './merge.ts';
export type { ProgressSink } from './progress.ts';
export { lineProgress, silentProgress, ttyProgress } from './progress.ts';
export { ATTEMPT_ENV, attemptProcesses, killProcessesWithEnv, processesWithEnv, reapAttempt } from './reap.ts';
export { attemptSeed, attemptSeeds, MAX_REPEAT, mergeAttempts } from './repeat.ts';
export type { GateOptions, GateOutcome } from './report.ts';
export { gateAndReport } from './report.ts';
export type { AnnotationContext } from './reports/annotations.ts';
export { ANNOTATIONS_PER_TYPE, githubAnnotations } from './reports/annotations.ts';
export type { CellChange, MatrixDiff } from './reports/diff.ts';
export { DiffInputError, diffMarkdown, diffReports, emptyDiff, parseMatrixReport } from './reports/diff.ts';
export type { MatrixReport } from './reports/json.ts';
export { MATRIX_REPORT_SCHEMA, matrixReport } from './reports/json.ts';
export type { ReportContext, Reporter, ReporterName } from './reports/reporters.ts';
export { isReporterName, REPORTER_NAMES, REPORTERS } from './reports/reporters.ts';
export {
  isLayerResultsName,
  readResultsDir,
  readResultsFile,
  resultsFileName,
  resultsFiles,
  writeResults,
} from './results-io.ts';
export type { RunInterrupted, RunOptions, RunOutcome } from './run.ts';
export { newSeed, runLayers } from './run.ts';
export type { RunErrorKind } from './run-error.ts';
export { RunError, writeFailure } from './run-error.ts';
export type { RunLock } from './run-lock.ts';
export { acquireRunLock } from './run-lock.ts';
export { uniqueTestIds } from './test-ids.ts';
export { toolVersions } from './versions.ts';
export type { WorkspaceProject } from './workspace.ts';
export { workspaceProjects } from './workspace.ts';
