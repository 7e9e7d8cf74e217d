// Import-time configuration, so a child process can be started with failpoints set
// (unlike fail-rs, where FAILPOINTS is read only by FailScenario::setup, fail-rs#77).
import { writeSync } from 'node:fs';
import { applyFailpointList } from './control.ts';
import { startHttpControl } from './http.ts';
import { globalRegistry } from './registry.ts';

const STARTED = Symbol.for('faultline.failpoints.started');

// A bad FAILPOINTS or FAILPOINTS_HTTP ends the process, as in gofail: running a crash test
// without its faults would pass vacuously.
function fatal(message: string): never {
  writeSync(2, `failpoints: ${message}\n`);
  process.exit(2);
}

const g = globalThis as typeof globalThis & { [STARTED]?: boolean };
if (!g[STARTED]) {
  g[STARTED] = true;
  const list = process.env.FAILPOINTS;
  if (list !== undefined && list.trim() !== '') {
    try {
      applyFailpointList(globalRegistry, list, 'FAILPOINTS');
    } catch (e) {
      fatal((e as Error).message);
    }
  }
  const http = process.env.FAILPOINTS_HTTP;
  if (http !== undefined && http.trim() !== '') {
    startHttpControl(http.trim()).then(
      (server) => writeSync(2, `failpoints: http control on ${server.address}\n`),
      (e: unknown) => fatal(`FAILPOINTS_HTTP=${http}: ${(e as Error).message}`),
    );
  }
}
