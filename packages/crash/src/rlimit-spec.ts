// Resource-limit vocabulary shared by the spawning side and the preload (kept dependency-free so
// the preload stays cheap).

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

/**
 * What went wrong with resource limits: `spec` (bad limits), `method` (a method that cannot work
 * for this command), `unavailable` (neither the posix addon nor prlimit(1) here), `proc` (no
 * readable /proc/<pid>/limits), `apply` (prlimit failed or the kernel shows other limits).
 */
export type RlimitErrorKind = 'spec' | 'method' | 'unavailable' | 'proc' | 'apply';

export class RlimitError extends Error {
  readonly kind: RlimitErrorKind;
  constructor(kind: RlimitErrorKind, message: string) {
    super(message);
    this.name = 'RlimitError';
    this.kind = kind;
  }
}

export function resolveLimits(limits: Rlimits): ResolvedLimit[] {
  const out: ResolvedLimit[] = [];
  for (const [resource, value] of Object.entries(limits) as Array<[RlimitResource, RlimitValue | undefined]>) {
    if (value === undefined) continue;
    if (!RLIMIT_RESOURCES.includes(resource)) {
      throw new RlimitError('spec', `unknown rlimit '${resource}'; supported: ${RLIMIT_RESOURCES.join(', ')}`);
    }
    const soft = typeof value === 'number' ? value : value.soft;
    const hard = typeof value === 'number' ? value : value.hard;
    for (const [which, n] of [
      ['soft', soft],
      ['hard', hard],
    ] as const) {
      if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) {
        throw new RlimitError('spec', `rlimit ${resource}: ${which} limit must be a non-negative integer, got ${n}`);
      }
    }
    if (hard !== undefined && soft > hard)
      throw new RlimitError('spec', `rlimit ${resource}: soft ${soft} exceeds hard ${hard}`);
    out.push({ resource, soft, hard });
  }
  if (out.length === 0) throw new RlimitError('spec', 'no rlimits given; pass e.g. { nofile: 64 }');
  return out;
}
