// Self-spawn gating. A worker runs only when BOTH the argv flag and the env var name the same
// role, so a stray flag on a command line (or an inherited env var) cannot misfire into worker mode.
// This module imports nothing heavy: worker processes load it first and must start fast.
import { CrashError } from './errors.ts';

export const WORKER_FLAG = '--faultline-worker';
export const WORKER_ENV = 'FAULTLINE_WORKER';

/** The argv flag and env entry that start `file` as a worker of `role`. */
export function workerInvocation(role: string): { args: string[]; env: Record<string, string> } {
  if (!/^[\w.-]+$/.test(role)) {
    throw new CrashError('usage', `worker role '${role}' must match /^[\\w.-]+$/ (it travels in argv and env)`);
  }
  return { args: [`${WORKER_FLAG}=${role}`], env: { [WORKER_ENV]: role } };
}

/**
 * The role this process was started as, or undefined in the parent. Throws when the argv flag is
 * present without the matching env var: someone passed the reserved flag by hand.
 */
export function workerRole(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env) {
  const flag = argv.find((a) => a === WORKER_FLAG || a.startsWith(`${WORKER_FLAG}=`));
  if (flag === undefined) return undefined;
  const role = flag.slice(WORKER_FLAG.length + 1);
  if (role === '' || env[WORKER_ENV] !== role) {
    throw new CrashError(
      'usage',
      `${flag} is reserved for workers spawned by @faultline/crash (spawnManaged({ self, role })), and ${WORKER_ENV}` +
        ` is ${env[WORKER_ENV] === undefined ? 'unset' : `'${env[WORKER_ENV]}'`}; do not pass the flag by hand`,
    );
  }
  return role;
}

/** True only in a process spawned as a worker (of `role`, when given). */
export function isWorker(role?: string): boolean {
  const actual = workerRole();
  return actual !== undefined && (role === undefined || actual === role);
}

/** The arguments after the worker flag (what the parent passed as `args` to spawnManaged). */
export function workerArgs(argv: readonly string[] = process.argv): string[] {
  const at = argv.findIndex((a) => a.startsWith(`${WORKER_FLAG}=`));
  return at < 0 ? [] : argv.slice(at + 1);
}

/**
 * Top-level entry for a file that is both parent and worker: `await runWorker('writer', main)`.
 * In the parent it returns at once; in a worker of `role` it runs `main(args)` and exits, so the
 * rest of the file (e.g. vitest `test(...)` calls) never runs in the child.
 */
export async function runWorker(role: string, main: (args: string[]) => unknown): Promise<void> {
  if (!isWorker(role)) return;
  try {
    await main(workerArgs());
    process.exit(0);
  } catch (error) {
    process.stderr.write(`faultline worker '${role}' failed: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(70);
  }
}
