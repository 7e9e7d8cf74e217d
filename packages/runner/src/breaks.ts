/**
 * Test-only switches that remove one of the runner's own protections, so faultline's own matrix
 * (faultline.matrix.yaml, suites/self) can prove each of its cells turns red without it. Read from
 * `FAULTLINE_BREAK` (comma-separated), the same variable the reference system's breaks use; this is
 * the only module of the runner that reads it. Never set in production: every switch makes a run
 * less safe.
 */
export const RUNNER_BREAKS = {
  /** No SIGINT/SIGTERM handling: the CLI dies of the signal and the layer's processes (worker, forks, daemons) run on. */
  noInterruptReap: 'interrupt',
  /** Do not remove the containers an attempt's tests started (labelled with its id) when it is stopped. */
  noContainerReap: 'interrupt',
  /** Let a full or read-only disk escape as a raw Node error (stack trace, exit 1). */
  rawWriteErrors: 'disk-full, read-only-results',
  /** Write the reports of a run one by one, as before issue 20: a full disk leaves new reports beside old ones. */
  noStagedReports: 'disk-full',
  /** A torn results file escapes as JSON.parse's raw SyntaxError (a stack trace, exit 1), naming no file. */
  rawResultsErrors: 'torn-results',
  /** Take no run lock: two runs in one directory interleave their results. */
  noRunLock: 'concurrent-runs',
  /** Do not compare the matrix's digest at the end of the run with the one at its start. */
  noMatrixRecheck: 'matrix-changed',
  /** Do not reap what an attempt left behind (daemons that ignore SIGTERM, detached children). */
  noAttemptReap: 'hostile-tests',
  /** Ignore the layer timeout: a hung worker is waited for. */
  noLayerTimeout: 'hung-worker',
} as const;
export type RunnerBreak = keyof typeof RUNNER_BREAKS;

/** Whether `FAULTLINE_BREAK` names this switch. */
export function broken(name: RunnerBreak): boolean {
  return (process.env.FAULTLINE_BREAK ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(name);
}
