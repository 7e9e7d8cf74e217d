import { AsyncLocalStorage } from 'node:async_hooks';
import type { EvidenceSink, FaultEvidence, FaultEvidenceInput } from './evidence.ts';

// A well-known global symbol rather than module state: a library may be loaded twice
// (vitest's module graph and node_modules), and every copy must reach the same sink.
const SLOT = Symbol.for('faultline.evidence.sink');

interface Slot {
  sink: EvidenceSink | undefined;
  /** Set while a callback made by bindEvidence() runs: its test, wherever it was called from. */
  bound: AsyncLocalStorage<EvidenceSink>;
}

function slot(): Slot {
  const g = globalThis as typeof globalThis & { [SLOT]?: Partial<Slot> };
  g[SLOT] ??= {};
  const s = g[SLOT];
  // A slot made by an older copy of this module may lack `bound`.
  s.bound ??= new AsyncLocalStorage();
  return s as Slot;
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
 * The test whose code is running now, as a target for `recordFault(..., { target })`: a fault
 * primitive armed by a test can keep it and record there when it fires from code no test owns
 * (a server or loop started in beforeAll). Undefined outside a test.
 */
export function evidenceTarget(): EvidenceSink | undefined {
  const s = slot();
  return s.bound.getStore() ?? s.sink?.current?.();
}

/**
 * Binds `fn` to the current test: evidence recorded while it runs lands on that test even when
 * a shared server, queue or timer started in a hook calls it later, concurrently with other
 * tests. Outside a test `fn` is returned unchanged.
 */
export function bindEvidence<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const target = evidenceTarget();
  if (!target) return fn;
  const { bound } = slot();
  return (...args: A) => bound.run(target, () => fn(...args));
}

export interface RecordOptions {
  /** The test to record on (from `evidenceTarget()`) instead of the one whose code is running. */
  target?: EvidenceSink | undefined;
}

/**
 * Records that a fault fired on the current test. Callable from test bodies and from
 * library code running inside a test; outside a test it is a no-op and returns false.
 */
export function recordFault(input: FaultEvidenceInput, options: RecordOptions = {}): boolean {
  const s = slot();
  const sink = options.target ?? s.bound.getStore() ?? s.sink;
  if (!sink) return false;
  const evidence: FaultEvidence = { ...input, count: input.count ?? 1, at: Date.now() };
  sink.record(evidence);
  return true;
}

/**
 * Records that a fault primitive was set up but did not act (why, in `detail`): the entry is
 * kept with `acted: false` and `count: 0`, shown in reports and in the gate's vacuous reason, and covers nothing.
 */
export function recordNoEffect(input: FaultEvidenceInput, options: RecordOptions = {}): boolean {
  return recordFault({ ...input, acted: false, count: 0 }, options);
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
