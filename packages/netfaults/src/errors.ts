/**
 * Thrown by `createNetworkEnvironment` when the requested backend cannot run here (no
 * container engine answers, the Toxiproxy image cannot be obtained). The reason has already
 * been reported as the run's `notRun` capability; suites turn it into a skipped test with
 * the reason (see `networkEnvironmentOrSkip`), which the gate shows as a `not-run` cell.
 */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  readonly backend: 'containers';
  readonly reason: string;

  constructor(reason: string) {
    super(`layer-3 backend "containers" is not available: ${reason}`);
    this.backend = 'containers';
    this.reason = reason;
  }
}
