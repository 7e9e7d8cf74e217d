// faultline's evidence protocol for any process: append one JSON line per fault that acted to the
// file named by FAULTLINE_EVIDENCE_FILE:
//   {"test":"<name as the results report it>","kind":"kill","name":"writer-0","detail":"pid 42 got SIGKILL",
//    "count":1,"attributes":{"wave":1},"acted":false,"issues":["kv-torn-write"]}
// `test`, `kind` and `name` are required; `detail` is a sentence (an object is shown as JSON); `count`
// defaults to 1; `acted: false` says the fault was set up but did not act (covers nothing); `issues`
// claims matrix issues for the test. Lines that are not JSON objects (a torn last line) are skipped.
import type { EvidenceValue, FaultEvidence } from '@faultline/evidence';

export interface EvidenceLine {
  test: string;
  evidence?: FaultEvidence;
  issues: string[];
}

/** The variable naming the file a command project's processes append evidence lines to. */
export const EVIDENCE_FILE_ENV = 'FAULTLINE_EVIDENCE_FILE';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function attributes(v: unknown): Record<string, EvidenceValue> | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, EvidenceValue> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
  }
  return Object.keys(out).length ? out : undefined;
}

/** One line of the protocol, or undefined when it is not one (no `test`). */
export function parseEvidenceLine(line: string, source: string, now = Date.now()): EvidenceLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || typeof v.test !== 'string' || !v.test) return undefined;
  const issues = Array.isArray(v.issues) ? v.issues.filter((i): i is string => typeof i === 'string') : [];
  const kind = typeof v.kind === 'string' ? v.kind : typeof v.fault === 'string' ? v.fault : undefined;
  if (kind === undefined || typeof v.name !== 'string') return { test: v.test, issues };
  const detail = typeof v.detail === 'string' ? v.detail : v.detail === undefined ? '' : JSON.stringify(v.detail);
  const count = typeof v.count === 'number' && Number.isFinite(v.count) && v.count >= 0 ? Math.floor(v.count) : 1;
  const attrs = attributes(v.attributes) ?? attributes(v.detail);
  const evidence: FaultEvidence = {
    kind,
    name: v.name,
    detail,
    source: typeof v.source === 'string' ? v.source : source,
    count,
    at: typeof v.at === 'number' ? v.at : now,
    ...(attrs ? { attributes: attrs } : {}),
    ...(v.acted === false ? { acted: false as const } : {}),
  };
  return { test: v.test, evidence, issues };
}

/** Every protocol line of an evidence file's text. */
export function parseEvidenceFile(text: string, source: string): EvidenceLine[] {
  return text.split('\n').flatMap((l) => (l.trim() ? (parseEvidenceLine(l, source) ?? []) : []));
}
