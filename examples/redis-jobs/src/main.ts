// The service's process: configuration from the environment, JSON log lines on stderr, the
// `listening on URL` line on stdout (what supervisors and tests wait for), and the signals.
// SIGTERM/SIGINT start a graceful shutdown (exit 0 once drained); a second signal exits at once.
import { constants } from 'node:os';
import { configFromEnv } from './config.ts';
import { JobService, type Log } from './service.ts';

const log: Log = (event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
};

const service = new JobService({ config: configFromEnv(), log });
const url = await service.listen();
process.stdout.write(`listening on ${url}\n`);
log('listening', { url, pid: process.pid });

let stopping = false;

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    log('second-signal', { signal });
    process.exit(128 + constants.signals[signal]);
  }
  stopping = true;
  log('signal', { signal });
  service.close().then(
    // Nothing is left on the event loop: the process ends by itself, with this code.
    () => {
      process.exitCode = 0;
    },
    (error: unknown) => {
      log('shutdown-failed', { error: String(error) });
      process.exit(1);
    },
  );
}

process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
