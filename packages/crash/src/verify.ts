// Post-kill checks for durable state: the stored value parses, is not behind what the worker
// journaled as done, and never moves backwards across waves. They return violations instead of
// throwing so a self-test can assert that a broken writer IS caught.
import { readFileSync } from 'node:fs';

export type StoredValue =
  | { state: 'ok'; value: number }
  | { state: 'missing' }
  | { state: 'torn'; reason: string; raw: string };

export type ViolationKind = 'torn' | 'missing' | 'behind-journal' | 'regressed';

export interface Violation {
  kind: ViolationKind;
  /** What was checked, e.g. "worker-2 checkpoint". */
  subject: string;
  detail: string;
}

/**
 * Reads a numeric field of a JSON file (dot path, e.g. "cursor.seq"). A missing file is
 * `missing`; an empty, unparsable or wrongly-shaped file is `torn` with the reason.
 */
export function readJsonNumber(path: string, field: string): StoredValue {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  const preview = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return { state: 'torn', reason: `${raw.length} bytes do not parse: ${(error as Error).message}`, raw: preview };
  }
  let value: unknown = parsed;
  for (const key of field.split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { state: 'torn', reason: `field "${field}" is ${JSON.stringify(value)}, not a number`, raw: preview };
  }
  return { state: 'ok', value };
}

export interface DurabilityInput {
  subject: string;
  stored: StoredValue;
  /** The highest value the worker journaled as durably done (undefined: it journaled nothing). */
  journaled?: number;
  /** The stored value after the previous wave, which must not be undone. */
  previous?: number;
}

/** Checks one stored value against its journal and the previous wave. */
export function checkDurability(input: DurabilityInput): Violation[] {
  const { subject, stored, journaled, previous } = input;
  if (stored.state === 'torn') {
    return [
      {
        kind: 'torn',
        subject,
        detail: `${subject} is torn: ${stored.reason} (content: ${JSON.stringify(stored.raw)})`,
      },
    ];
  }
  if (stored.state === 'missing') {
    const lost = journaled !== undefined || previous !== undefined;
    return lost
      ? [
          {
            kind: 'missing',
            subject,
            detail: `${subject} is missing although ${journaled !== undefined ? `journal reached ${journaled}` : `the previous wave stored ${previous}`}`,
          },
        ]
      : [];
  }
  const out: Violation[] = [];
  if (journaled !== undefined && stored.value < journaled) {
    out.push({
      kind: 'behind-journal',
      subject,
      detail: `${subject} stores ${stored.value} but the journal acknowledged ${journaled}: a completed write was lost`,
    });
  }
  if (previous !== undefined && stored.value < previous) {
    out.push({
      kind: 'regressed',
      subject,
      detail: `${subject} moved backwards from ${previous} (previous wave) to ${stored.value}`,
    });
  }
  return out;
}
