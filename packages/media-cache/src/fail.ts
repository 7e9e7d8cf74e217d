import { failpoint, failpointAsync } from '@faultline/failpoints';
import { errnoError } from './errors.ts';

/**
 * The daemon's failpoints. `return(ARG)` turns into a thrown error: when ARG looks like an
 * errno code (`ENOSPC`, `EIO`, `ECONNRESET`) the error carries that code, so the code path
 * under test sees exactly what a real failing syscall would produce.
 */
export function injectedError(name: string, arg: string | undefined): Error {
  const code = arg !== undefined && /^E[A-Z0-9]+$/.test(arg) ? arg : 'EFAILPOINT';
  return errnoError(code, `failpoint "${name}" injected ${arg ?? 'an error'}`);
}

/** Sync failpoint: `return(E…)` throws an errno-shaped error, `panic` throws, crash actions kill. */
export function fp(name: string): void {
  failpoint(name, (arg): never => {
    throw injectedError(name, arg);
  });
}

/** Async failpoint: also supports sleep/delay/pause/yield. */
export async function fpAsync(name: string): Promise<void> {
  await failpointAsync(name, (arg): never => {
    throw injectedError(name, arg);
  });
}
