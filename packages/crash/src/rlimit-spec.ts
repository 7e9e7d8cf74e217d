// Resource-limit vocabulary shared by the spawning side and the preload (kept dependency-free so
// the preload stays cheap).
import { CrashError } from './errors.ts';

export type RlimitResource = 'nofile' | 'nproc' | 'as' | 'fsize';

/** A number sets soft = hard; an object sets the soft limit and optionally lowers the hard one. */
export type RlimitValue = number | { soft: number; hard?: number };

/** Limits for a child: RLIMIT_NOFILE (descriptors), NPROC (processes of the user), AS and FSIZE (bytes). */
export type Rlimits = Partial<Record<RlimitResource, RlimitValue>>;

export interface ResolvedLimit {
  resource: RlimitResource;
  soft: number;
  hard: number | undefined;
}

/** The env var the preload reads its limits from (JSON array of ResolvedLimit). */
export const RLIMITS_ENV = 'FAULTLINE_RLIMITS';

/** Where the preload writes /proc/self/limits after applying them, for the parent's read-back. */
export const RLIMITS_REPORT_ENV = 'FAULTLINE_RLIMITS_REPORT';

export const RLIMIT_RESOURCES: readonly RlimitResource[] = ['nofile', 'nproc', 'as', 'fsize'];

export function resolveLimits(limits: Rlimits): ResolvedLimit[] {
  const out: ResolvedLimit[] = [];
  for (const [resource, value] of Object.entries(limits) as Array<[RlimitResource, RlimitValue | undefined]>) {
    if (value === undefined) continue;
    if (!RLIMIT_RESOURCES.includes(resource)) {
      throw new CrashError('usage', `unknown rlimit '${resource}'; supported: ${RLIMIT_RESOURCES.join(', ')}`);
    }
    const soft = typeof value === 'number' ? value : value.soft;
    const hard = typeof value === 'number' ? value : value.hard;
    for (const [which, n] of [
      ['soft', soft],
      ['hard', hard],
    ] as const) {
      if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) {
        throw new CrashError('usage', `rlimit ${resource}: ${which} limit must be a non-negative integer, got ${n}`);
      }
    }
    if (hard !== undefined && soft > hard)
      throw new CrashError('usage', `rlimit ${resource}: soft ${soft} exceeds hard ${hard}`);
    out.push({ resource, soft, hard });
  }
  if (out.length === 0) throw new CrashError('usage', 'no rlimits given; pass e.g. { nofile: 64 }');
  return out;
}
