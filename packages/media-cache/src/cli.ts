import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config.ts';
import { startMediaCache } from './daemon.ts';
import { errorMessage } from './errors.ts';
import { EXIT } from './exit-codes.ts';
import { InstanceLockedError } from './instance-lock.ts';
import { jsonLogger } from './log.ts';
import { installProcessHandlers } from './process-handlers.ts';
import { VERSION } from './version.ts';

const USAGE = `usage: media-cache serve --config FILE
       media-cache --version

Starts the media-cache daemon. When ready it prints one JSON line to stdout:
  {"event":"ready","http":"127.0.0.1:PORT","control":"/path.sock","pid":N,"version":"…"}
Logs are JSON lines on stderr. SIGTERM/SIGINT drain and exit 0; a second signal exits at once
(130 for SIGINT, 143 for SIGTERM). See the package README for config and exit codes.`;

function usage(problem: string): never {
  process.stderr.write(`media-cache: ${problem}\n\n${USAGE}\n`);
  process.exit(EXIT.USAGE);
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  }
  try {
    parsed = parse();
  } catch (error) {
    usage(errorMessage(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1)
    usage(`expected the command "serve", got ${JSON.stringify(positionals.join(' ') || '(nothing)')}`);
  if (values.config === undefined) usage('serve needs --config FILE (a JSON config file)');

  const log = jsonLogger();
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(values.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`media-cache: ${error.message}\n`);
      process.exit(EXIT.USAGE);
    }
    throw error;
  }

  let current: Awaited<ReturnType<typeof startMediaCache>> | null = null;
  installProcessHandlers({
    policy: config.onUncaught,
    log,
    context: () => ({ state: current?.state ?? 'starting', inflight: current?.dataServer.inflight.size ?? 0 }),
    onFault: (kind) => current?.noteUncaught(kind),
    exitBeforeLog: config.unsafe.exitBeforeUncaughtLog,
  });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.log('warn', 'second-signal', { signal, action: 'exit now' });
      process.exit(signal === 'SIGINT' ? EXIT.SECOND_SIGINT : EXIT.SECOND_SIGTERM);
    }
    stopping = true;
    log.log('info', 'signal', { signal, action: 'graceful shutdown' });
    const watchdog = setTimeout(() => {
      log.log('fatal', 'shutdown-timeout', { afterMs: config.timeouts.drainMs + 10_000 });
      process.exit(EXIT.SHUTDOWN_TIMEOUT);
    }, config.timeouts.drainMs + 10_000);
    watchdog.unref();
    if (current === null) return; // still starting: main() closes right after startup
    current.close().then(
      () => process.exit(EXIT.OK),
      (error: unknown) => {
        log.log('fatal', 'shutdown-failed', { error });
        process.exit(EXIT.STARTUP_FAILED);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    current = await startMediaCache(config, { log });
  } catch (error) {
    if (error instanceof InstanceLockedError) {
      process.stderr.write(`media-cache: refusing to start: ${error.message}\n`);
      process.exit(EXIT.LOCKED);
    }
    log.log('fatal', 'startup-failed', { error });
    process.stderr.write(`media-cache: startup failed: ${errorMessage(error)}\n`);
    process.exit(EXIT.STARTUP_FAILED);
  }
  if (stopping) {
    await current.close();
    process.exit(EXIT.OK);
  }
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', http: current.httpAddress, control: current.controlSocket, pid: process.pid, version: VERSION })}\n`,
  );
}

await main(process.argv.slice(2));
