export type { CellAttempts, CellQuarantine } from './attempts.ts';
export { replayCommand } from './attempts.ts';
export type { LayerGap } from './completeness.ts';
export { gapMessage, gapReason, layerGaps } from './completeness.ts';
export type { Cell, CellState, CellTest, Coverage, EmptyProject, UnknownTag } from './coverage.ts';
export { cellStates, computeCoverage } from './coverage.ts';
export { cut, errorExcerpt, firstLine, plural } from './failures.ts';
export type { GateReason, GateReasonCode, Verdict } from './gate.ts';
export { gate } from './gate.ts';
export type { LoadedMatrix } from './loader.ts';
export { formatPath, loadMatrix, parseMatrix } from './loader.ts';
export type { LayerPlan, PlannedProject, PlanOptions, RunPlan } from './plan.ts';
export { planRun } from './plan.ts';
export { issueMatches, requiredLayers, verifyRequired } from './policy.ts';
export type { Problem } from './problem.ts';
export { formatProblem, MatrixError } from './problem.ts';
export type { LayerProject, NamedProject, NamedProjects, ResolvedProjects, ResolveOptions } from './projects.ts';
export {
  isProjectPath,
  namedProjects,
  projectFiles,
  projectPathName,
  resolveLayerProjects,
  VITEST_CONFIGS,
  vitestConfigIn,
} from './projects.ts';
export type {
  FileError,
  LayerResults,
  ProjectRun,
  RunMeta,
  TestAttempt,
  TestError,
  TestRecord,
  TestState,
  UnattributedEvidence,
} from './results.ts';
export { RESULTS_SCHEMA, testOutcome, testStates } from './results.ts';
export type {
  Backend,
  Break,
  CommandProjectSpec,
  Issue,
  Layer,
  LayerKind,
  Matrix,
  MatrixInput,
  Policy,
  Quarantine,
  Requirement,
  ResultFormat,
  Severity,
  VerifyPolicy,
} from './schema.ts';
export {
  backends,
  durationMs,
  layerKind,
  layerKinds,
  matrixJsonSchema,
  matrixSchema,
  resultFormats,
  severities,
} from './schema.ts';
export { STATE_ICON, STATE_LABEL, STATE_ORDER } from './states.ts';
export { didYouMean, nearestName } from './suggest.ts';
export type { BreakOutcome, BreakResult, CellVerification, ControlResult, VerifyResults } from './verify.ts';
export {
  BREAK_ENV,
  cellVerification,
  declaredBreaks,
  VERIFY_FILE,
  VERIFY_SCHEMA,
  verificationShortfall,
  verificationSummary,
} from './verify.ts';
