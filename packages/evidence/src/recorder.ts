import type { EvidenceSink, FaultEvidence, FaultEvidenceInput } from './evidence.ts';

// A well-known global symbol rather than module state: a library may be loaded twice
// (vitest's module graph and node_modules), and every copy must reach the same sink.
const SLOT = Symbol.for('faultline.evidence.sink');

interface Slot {
  sink: EvidenceSink | undefined;
}

function slot(): Slot {
  const g = globalThis as typeof globalThis & { [SLOT]?: Slot };
  g[SLOT] ??= { sink: undefined };
  return g[SLOT];
}

/** Installs the sink for the current test (the vitest setup file does this); returns the previous one. */
export function setEvidenceSink(sink: EvidenceSink | undefined): EvidenceSink | undefined {
  const s = slot();
  const previous = s.sink;
  s.sink = sink;
  return previous;
}

/** True when a test is running and evidence will be kept. */
export function isRecordingEvidence(): boolean {
  return slot().sink !== undefined;
}

/**
 * Records that a fault fired on the current test. Callable from test bodies and from
 * library code running inside a test; outside a test it is a no-op and returns false.
 */
export function recordFault(input: FaultEvidenceInput): boolean {
  const sink = slot().sink;
  if (!sink) return false;
  const evidence: FaultEvidence = { ...input, count: input.count ?? 1, at: Date.now() };
  sink.record(evidence);
  return true;
}

/**
 * Records that a fault primitive was set up but did not act (why, in `detail`): the entry is
 * kept with `acted: false` and `count: 0`, shown in reports and in the gate's vacuous reason, and covers nothing.
 */
export function recordNoEffect(input: FaultEvidenceInput): boolean {
  return recordFault({ ...input, acted: false, count: 0 });
}

/**
 * Whether an evidence entry shows a fault that acted (only these cover a cell): not marked
 * `acted: false`, and fired at least once (an entry that counted 0 effects did not act either).
 */
export function actedOn(e: Pick<FaultEvidence, 'acted' | 'count'>): boolean {
  return e.acted !== false && e.count > 0;
}

/** Identity used to merge repeated records of the same fault into one entry with a count. */
export function evidenceKey(e: Pick<FaultEvidence, 'kind' | 'name' | 'detail' | 'acted'>): string {
  // A "did not act" entry never merges with an acting one of the same text.
  return `${e.kind}\u0000${e.name}\u0000${e.detail}${e.acted === false ? '\u0000idle' : ''}`;
}

/** Default cap on distinct evidence entries per test, so a hot failpoint cannot bloat results. */
export const MAX_EVIDENCE_ENTRIES = 100;

/** Collects evidence for one test: merges repeats by key, caps distinct entries. */
export class EvidenceLog implements EvidenceSink {
  readonly entries: FaultEvidence[] = [];
  dropped = 0;
  readonly #byKey = new Map<string, FaultEvidence>();
  readonly #max: number;

  constructor(max = MAX_EVIDENCE_ENTRIES) {
    this.#max = max;
  }

  record(evidence: FaultEvidence): void {
    const key = evidenceKey(evidence);
    const existing = this.#byKey.get(key);
    if (existing) {
      existing.count += evidence.count;
      return;
    }
    if (this.entries.length >= this.#max) {
      this.dropped += evidence.count;
      return;
    }
    const copy = { ...evidence, ...(evidence.attributes ? { attributes: { ...evidence.attributes } } : {}) };
    this.entries.push(copy);
    this.#byKey.set(key, copy);
  }
}

/**
 * Routes evidence into a fresh log until `restore()` puts the previous sink back: for tests of
 * fault primitives run without the vitest setup file (call `restore()` in a finally, or return
 * it from beforeEach).
 */
export function captureEvidence(max = MAX_EVIDENCE_ENTRIES): { log: EvidenceLog; restore: () => void } {
  const log = new EvidenceLog(max);
  const previous = setEvidenceSink(log);
  return { log, restore: () => void setEvidenceSink(previous) };
}
