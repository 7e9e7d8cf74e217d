/** A JSON-safe attribute value carried with evidence (and into JUnit properties). */
export type EvidenceValue = string | number | boolean;

/**
 * Proof that a fault primitive really fired. `kind` says which family of fault
 * (failpoint, wrapper, fs, signal, kill, rlimit, toxic, ...), `name` which instance
 * (failpoint name, toxic name, pid...), `detail` a one-line human sentence.
 */
export interface FaultEvidence {
  kind: string;
  name: string;
  detail: string;
  /** The package or helper that recorded it, e.g. "@faultline/failpoints". */
  source?: string;
  /** How many times this exact fault fired within the test (merged records add up). */
  count: number;
  attributes?: Record<string, EvidenceValue>;
  /** Wall-clock time of the first record, ms since the epoch. */
  at: number;
  /**
   * `false`: the primitive was set up but did not act on the system (a limit the child never
   * came near, a toxic nothing flowed through). Such an entry covers nothing: it only says,
   * in the gate's vacuous reason, which primitive stayed idle and why. Absent: it acted.
   */
  acted?: false;
  /** Which attempt of a retried test recorded it (0 = the first); absent when the test ran once. */
  attempt?: number;
}

export type FaultEvidenceInput = Omit<FaultEvidence, 'count' | 'at'> & { count?: number };

/** Where evidence goes while a test runs; installed by the @faultline/vitest setup file. */
export interface EvidenceSink {
  record(evidence: FaultEvidence): void;
  /**
   * The sink of the test whose code is running right now, if the sink can tell (the vitest setup
   * file can): what `bindEvidence()` captures so work run later elsewhere stays with that test.
   */
  current?(): EvidenceSink | undefined;
}
