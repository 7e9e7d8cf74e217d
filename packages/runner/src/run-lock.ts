import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { broken } from './breaks.ts';
import { RunError, writeFailure } from './run-error.ts';

/** What a lock file holds: who runs, since when, and the process's start time (to tell a reused pid). */
interface LockHolder {
  pid: number;
  startedAt: string;
  host: string;
  /** Clock ticks after boot when the process started (Linux /proc/<pid>/stat field 22). */
  startTicks?: number;
}

export interface RunLock {
  file: string;
  release(): void;
}

function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.startedAt === 'string' ? (h as LockHolder) : undefined;
  } catch {
    return undefined; // torn (its writer died mid-write) or removed meanwhile: nobody holds it
  }
}

/** Whether the lock's process still runs: same host, pid alive, and (where known) the same process. */
function alive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true; // another machine's run on a shared disk: cannot tell, assume it runs
  try {
    process.kill(h.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const ticks = startTicks(h.pid);
  return h.startTicks === undefined || ticks === undefined || ticks === h.startTicks;
}

function tryCreate(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeFailure(file, error);
  }
  try {
    writeSync(fd, `${JSON.stringify(holder)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `file` (`.faultline/run.lock` beside the results directory) for this process, so two
 * `faultline run` in one directory never interleave their results: a live holder is a `locked`
 * RunError naming its pid and start; a dead one's (or a torn) lock is taken over. Released by
 * `release()` and, failing that, when the process exits.
 */
export function acquireRunLock(file: string): RunLock {
  if (broken('noRunLock')) return { file, release() {} };
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw writeFailure(file, error);
  }
  const ticks = startTicks(process.pid);
  const me: LockHolder = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    host: hostname(),
    ...(ticks !== undefined ? { startTicks: ticks } : {}),
  };
  // Twice at most: the second try follows the removal of a dead holder's lock.
  for (let attempt = 0; !tryCreate(file, me); attempt++) {
    const holder = readHolder(file);
    if (attempt > 0 || (holder && alive(holder))) {
      const who = holder ? `pid ${holder.pid}, started ${holder.startedAt}` : 'a process that just took it';
      throw new RunError(
        'locked',
        file,
        `another faultline run holds ${file} (${who}): wait for it to finish, or remove the file if that process is gone`,
      );
    }
    rmSync(file, { force: true });
  }
  const release = () => {
    process.off('exit', release);
    if (readHolder(file)?.pid === me.pid) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}
