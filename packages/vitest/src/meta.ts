import type { FaultEvidence } from '@faultline/evidence';

/** What the setup file stores on each test's `task.meta`, read back by the reporter. */
export interface FaultlineTaskMeta {
  evidence: FaultEvidence[];
  /** Evidence records dropped after the per-test cap. */
  dropped: number;
}

declare module 'vitest' {
  interface TaskMeta {
    faultline?: FaultlineTaskMeta;
  }
}
