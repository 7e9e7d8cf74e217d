// Resident-set sampling of a process (the system under test, not this harness) while an async
// workload runs: /proc/<pid>/statm resident pages times the page size.
import { readFileSync } from 'node:fs';
import { CrashError } from './errors.ts';

let cachedPageSize: number | undefined;

/** The kernel page size, from the auxiliary vector (AT_PAGESZ); 4096 if it cannot be read. */
export function pageSize(): number {
  if (cachedPageSize !== undefined) return cachedPageSize;
  cachedPageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const type = auxv.readBigUInt64LE(at);
      if (type === 0n) break;
      if (type === 6n) cachedPageSize = Number(auxv.readBigUInt64LE(at + 8)); // AT_PAGESZ
    }
  } catch {
    // not Linux/64-bit: keep the common default
  }
  return cachedPageSize;
}

/** Resident set size of `pid` in bytes, or undefined if the process is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const resident = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(resident) ? resident * pageSize() : undefined;
  } catch {
    return undefined;
  }
}

export interface RssReport<T> {
  /** RSS right before the workload started, bytes. */
  baseline: number;
  /** Highest RSS seen while it ran, bytes. */
  peak: number;
  /** peak - baseline. */
  growth: number;
  samples: number;
  /** What the workload returned. */
  result: T;
}

/**
 * Samples the RSS of `pid` every `intervalMs` (default 10) while `workload` runs. The workload
 * must be asynchronous (I/O against the process): a synchronous one blocks the sampling timer.
 */
export async function sampleRss<T>(
  pid: number,
  workload: () => Promise<T>,
  options: { intervalMs?: number } = {},
): Promise<RssReport<T>> {
  const baseline = readRss(pid);
  if (baseline === undefined) {
    throw new CrashError(
      'unavailable',
      `sampleRss: cannot read /proc/${pid}/statm; is pid ${pid} alive (and is this Linux)?`,
    );
  }
  let peak = baseline;
  let samples = 1;
  const sample = () => {
    const rss = readRss(pid);
    if (rss === undefined) return;
    samples++;
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, options.intervalMs ?? 10);
  try {
    const result = await workload();
    sample();
    return { baseline, peak, growth: peak - baseline, samples, result };
  } finally {
    clearInterval(timer);
  }
}
