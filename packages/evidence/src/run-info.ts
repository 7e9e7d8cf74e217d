import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Facts a library learns about the environment during a run (e.g. which layer-3 backend it
 * picked, whether a container runtime answered). `faultline run` sets FAULTLINE_RUN_DIR for
 * each layer and stores these in the results' run metadata; outside a run this is a no-op.
 */
export function reportCapability(key: string, value: string | boolean): void {
  const dir = process.env.FAULTLINE_RUN_DIR;
  if (!dir) return;
  // One appended line per fact: test workers run in parallel processes, and O_APPEND
  // writes of a short line do not interleave.
  appendFileSync(join(dir, 'capabilities.ndjson'), `${JSON.stringify({ key, value })}\n`);
}
