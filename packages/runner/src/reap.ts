import { readdirSync, readFileSync } from 'node:fs';
import { ATTEMPT_ENV } from '@faultline/evidence';

/** The environment variable every process of one attempt of one layer inherits (see `reapAttempt`). */
export { ATTEMPT_ENV };

/**
 * The pids (Linux /proc; none elsewhere; never this process) whose environment holds `name=value`: a
 * variable every process of a group inherits finds them all, even those that left its process group and
 * session (detached daemons reparented to init). Zombies hold no environment.
 */
export function processesWithEnv(name: string, value: string): number[] {
  const marker = `\u0000${name}=${value}\u0000`;
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`\u0000${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(marker)) found.push(Number(entry));
    } catch {
      // Gone, or another user's process: not ours to reap.
    }
  }
  return found;
}

/** SIGKILLs every process whose environment holds `name=value` (see processesWithEnv); returns their pids. */
export function killProcessesWithEnv(name: string, value: string): number[] {
  const pids = processesWithEnv(name, value);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

/** The pids of one attempt of one layer: every process it started carries `FAULTLINE_ATTEMPT_ID=<id>`. */
export function attemptProcesses(id: string): number[] {
  return processesWithEnv(ATTEMPT_ENV, id);
}

/**
 * SIGKILLs every process an attempt left behind: daemons a test detached (their own session, reparented to
 * init) still carry the attempt's id in their environment. Attempts are independent: nothing of attempt 1
 * may answer in attempt 2. Returns the pids killed.
 */
export function reapAttempt(id: string): number[] {
  return killProcessesWithEnv(ATTEMPT_ENV, id);
}
