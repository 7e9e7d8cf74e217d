// `faultline-toxiproxy`: the embedded server with toxiproxy-server's flags, so scripts
// written for the real binary run unchanged. Logs are JSON lines on stdout, like the real one.
import { parseArgs } from 'node:util';
import type { ProxyConfig } from './collection.ts';
import { readConfigFile } from './config.ts';
import { TOXIPROXY_VERSION, ToxiproxyServer } from './server.ts';

const USAGE = `Usage of faultline-toxiproxy:
  -config string
    \tJSON file containing proxies to create on startup (the /populate format)
  -host string
    \tHost for toxiproxy's API to listen on (default "127.0.0.1")
  -port string
    \tPort for toxiproxy's API to listen on (default "8474")
  -proxy-metrics
    \tenable metrics for proxy
  -runtime-metrics
    \taccepted for compatibility; Go runtime metrics do not exist here
  -seed int
    \tSeed for randomizing toxics (replaces env FAULTLINE_SEED)
  -version
    \tshow version and exit
`;

function log(level: string, message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level, ...fields, time: new Date().toISOString(), message })}\n`);
}

/** Go's flag package accepts `-flag`, `--flag`, `-flag=value` and `-flag value`. */
function normalize(args: string[]): string[] {
  return args.map((arg) => (/^-[^-]/.test(arg) ? `-${arg}` : arg));
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: normalize(process.argv.slice(2)),
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8474' },
        config: { type: 'string' },
        seed: { type: 'string' },
        'proxy-metrics': { type: 'boolean', default: false },
        'runtime-metrics': { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`toxiproxy-server version ${TOXIPROXY_VERSION}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid value "${String(values.port)}" for flag -port: expected 0..65535\n${USAGE}`);
    return 2;
  }
  let proxies: unknown;
  if (typeof values.config === 'string') {
    try {
      proxies = await readConfigFile(values.config);
    } catch (error) {
      log('error', (error as Error).message, { config: values.config });
      return 1;
    }
  }
  let server: ToxiproxyServer;
  try {
    server = await ToxiproxyServer.start({
      host: String(values.host),
      port,
      seed: typeof values.seed === 'string' ? values.seed : undefined,
      proxyMetrics: values['proxy-metrics'] === true,
      // Validated by populate, with its messages.
      proxies: proxies as readonly ProxyConfig[] | undefined,
    });
  } catch (error) {
    log('fatal', (error as Error).message);
    return 1;
  }
  if (proxies !== undefined) log('info', 'Populated proxies from file', { config: values.config });
  log('info', 'Starting Toxiproxy HTTP server', {
    host: server.host,
    port: String(server.port),
    version: TOXIPROXY_VERSION,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log('info', 'Shutting down', { signal });
      void server.close().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

process.exitCode = await main();
