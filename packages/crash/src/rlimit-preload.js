// Preloaded with `node --import <this file>` by spawnManaged (option rlimits): applies the resource limits in
// FAULTLINE_RLIMITS to the child itself with setrlimit(2) before any user code runs, and fails the
// start loudly rather than running the child unlimited.
// Plain JavaScript on purpose: a .ts preload makes Node load its TypeScript stripper (a wasm
// module that reserves ~8 GiB of address space) before RLIMIT_AS is set, which would eat the limit.
// The env names duplicate RLIMITS_ENV / RLIMITS_REPORT_ENV in rlimit-spec.ts for the same reason.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const raw = process.env.FAULTLINE_RLIMITS;
if (raw) {
  const posix = createRequire(import.meta.url)('posix');
  /** @type {Array<{ resource: string, soft: number, hard?: number }>} */
  const limits = JSON.parse(raw);
  for (const limit of limits) {
    try {
      posix.setrlimit(limit.resource, { soft: limit.soft, ...(limit.hard == null ? {} : { hard: limit.hard }) });
    } catch (error) {
      throw new Error(
        `@faultline/crash rlimit preload: setrlimit(${limit.resource}, soft=${limit.soft}, hard=${limit.hard ?? 'unchanged'}) ` +
          `failed in pid ${process.pid}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  // The parent records evidence from this read-back even if the child exits before it can poll /proc.
  const report = process.env.FAULTLINE_RLIMITS_REPORT;
  if (report) writeFileSync(report, readFileSync('/proc/self/limits', 'utf8'));
  // Grandchildren inherit the limits from the kernel; they must not re-apply them.
  delete process.env.FAULTLINE_RLIMITS;
  delete process.env.FAULTLINE_RLIMITS_REPORT;
}
