// Reads the Linux process table from /proc. Start times guard against pid reuse: a pid or
// process group id only refers to "our" process if the process started no earlier than ours.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** Clock ticks after boot; comparable between processes of one boot. */
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: split after the LAST ')'.
  const close = raw.lastIndexOf(')');
  const open = raw.indexOf('(');
  if (open < 0 || close < 0) return undefined;
  const rest = raw.slice(close + 2).split(' ');
  return {
    pid,
    comm: raw.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: Number(rest[19]),
  };
}

export function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat) out.push(stat);
  }
  return out;
}

/** The command line of a pid, space-joined, or its comm when the cmdline is unreadable. */
export function readCmdline(pid: number): string {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const text = raw.split('\0').filter(Boolean).join(' ');
    if (text) return text.length > 200 ? `${text.slice(0, 197)}...` : text;
  } catch {
    // fall through to comm
  }
  return readProcStat(pid)?.comm ?? '?';
}

/** Alive means: exists, is not a zombie and, when `startTime` is given, is the same process. */
export function isProcessAlive(pid: number, startTime?: number): boolean {
  const stat = readProcStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/**
 * A process group id is only reused once every member of the old group is gone. So if a
 * process now holds the pid equal to a tracked group's id but is not the process that led it
 * (a different start time), the group is someone else's: claiming its members would kill an
 * unrelated process.
 */
export function groupReused(table: readonly ProcStat[], t: { pid: number; pgid: number; startTime: number }): boolean {
  const leader = table.find((s) => s.pid === t.pgid);
  if (!leader) return false;
  return t.pgid === t.pid ? leader.startTime !== t.startTime : leader.startTime > t.startTime;
}
