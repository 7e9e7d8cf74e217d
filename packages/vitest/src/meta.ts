import type { FaultEvidence } from '@faultline/evidence';

/** The evidence of one attempt of a test (vitest `retry` runs a test up to 1 + retry times). */
export interface FaultlineAttempt {
  evidence: FaultEvidence[];
  /** Evidence records dropped after the per-test cap. */
  dropped: number;
}

/** What the setup file stores on `task.meta`, read back by the reporter. */
export interface FaultlineTaskMeta {
  /** On a test: one entry per attempt, in order; a retry adds one instead of overwriting. */
  attempts?: FaultlineAttempt[];
  /** On a test file: evidence no test of the file could be held to. */
  unattributed?: FaultlineAttempt;
}

declare module 'vitest' {
  interface TaskMeta {
    faultline?: FaultlineTaskMeta;
  }
}
