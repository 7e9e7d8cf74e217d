/**
 * Thrown by `createNetworkEnvironment` when the requested backend cannot run here (no
 * container engine answers, the Toxiproxy image cannot be obtained, the external server does
 * not answer or is not Toxiproxy). The reason has already been reported as the run's `notRun`
 * capability; suites turn it into a skipped test with the reason (see
 * `networkEnvironmentOrSkip`), which the gate shows as a `not-run` cell.
 */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  readonly backend: 'containers' | 'external';
  readonly reason: string;

  constructor(reason: string, backend: 'containers' | 'external' = 'containers') {
    super(`layer-3 backend "${backend}" is not available: ${reason}`);
    this.backend = backend;
    this.reason = reason;
  }
}
