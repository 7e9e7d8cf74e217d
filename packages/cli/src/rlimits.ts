// The `l2 rlimits` line of `faultline doctor`. Kept out of doctor.ts so the CLI's published
// types never name @faultline/crash, an optional peer a project may not have installed.
import type { RlimitSupport } from '@faultline/crash';
import type { Check } from './doctor.ts';

/**
 * How @faultline/crash applies rlimits in this project, or why it cannot say. crash is an optional
 * peer of the CLI: a project without layer-2 tests does not install it (nor its native addon).
 */
export async function loadRlimitSupport(): Promise<RlimitSupport | Error> {
  try {
    return (await import('@faultline/crash')).rlimitSupport();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function notInstalled(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && error.message.includes('@faultline/crash');
}

/**
 * The `l2 rlimits` check: the method @faultline/crash uses for Node children (the same text the
 * run records as its `rlimits` capability), and what is missing when it cannot limit them.
 */
export function rlimitCheck(support: RlimitSupport | Error, prlimitRuns: () => boolean): Check {
  const name = 'l2 rlimits';
  if (support instanceof Error) {
    if (!notInstalled(support))
      return { name, ok: false, detail: `@faultline/crash does not load: ${support.message}` };
    const prlimit = prlimitRuns();
    const tool = prlimit ? 'prlimit(1) available' : 'prlimit(1) not found';
    return { name, ok: prlimit, detail: `@faultline/crash not installed (layer-2 tests add it); ${tool}` };
  }
  const ok = support.method === 'preload' || support.prlimit;
  const notes = [
    support.posixError,
    support.method === 'preload' && !support.prlimit
      ? 'prlimit(1) not found: non-Node commands and applyRlimits need it'
      : undefined,
  ].filter((n): n is string => n !== undefined);
  return { name, ok, detail: [support.summary, ...notes].join('; ') };
}
