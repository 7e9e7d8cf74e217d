// The embedded Toxiproxy server. Toxiproxy itself is a Go binary shipped as a container
// image and no npm package implements its server, so this is a from-scratch reimplementation
// on node:net and node:http that clients (toxiproxy-node-client, @testcontainers/toxiproxy,
// curl) cannot tell apart from v2.12.
import { createServer, type Server } from 'node:http';
import { formatAddress, isWildcard, resolveHost } from './address.ts';
import { createApiHandler } from './api.ts';
import { ProxyCollection, type ProxyConfig } from './collection.ts';
import { Metrics } from './metrics.ts';
import { createRandom } from './random.ts';

/** The version `/version` reports unless told otherwise: the release this server matches. */
export const TOXIPROXY_VERSION = '2.12.0';

export interface StartOptions {
  /** Interface for the HTTP API. Default `127.0.0.1`; `localhost` binds 127.0.0.1 like Go. */
  host?: string;
  /** Port for the HTTP API. Default 0 (an ephemeral port; the CLI defaults to 8474). */
  port?: number;
  /** Proxies to create at startup, in `/populate` format (what `-config FILE` holds). */
  proxies?: readonly ProxyConfig[];
  /** Seed for toxicity rolls, jitter and slicing. Default: env `FAULTLINE_SEED`, else a fixed default (see @faultline/evidence `runSeed`). */
  seed?: number | string;
  /** Route `/metrics` with the proxy byte counters (`-proxy-metrics`). */
  proxyMetrics?: boolean;
  /** What `/version` reports. Default `2.12.0`. */
  version?: string;
}

/** A running server. `close()` stops every proxy and the API. */
export class ToxiproxyServer {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:8474`; pass it to `new Toxiproxy(url)`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly #http: Server;
  readonly #collection: ProxyCollection;
  #closing: Promise<void> | undefined;

  private constructor(http: Server, collection: ProxyCollection, host: string, port: number) {
    this.#http = http;
    this.#collection = collection;
    this.host = host;
    this.port = port;
    this.url = `http://${formatAddress(host, port)}`;
  }

  static async start(options: StartOptions = {}): Promise<ToxiproxyServer> {
    const metrics = options.proxyMetrics ? new Metrics() : undefined;
    const collection = new ProxyCollection({ random: createRandom(options.seed), metrics });
    if (options.proxies !== undefined) {
      const result = await collection.populate(options.proxies);
      if (result.error) {
        collection.closeAll();
        throw new Error(`toxiproxy: cannot create the configured proxies: ${result.error.message}`);
      }
    }
    const requested = options.host ?? '127.0.0.1';
    const ip = isWildcard(requested) ? '::' : await resolveHost(requested);
    const http = createServer(
      // Go's http.Server limits: read 15 s, idle 60 s.
      { requestTimeout: 15_000, headersTimeout: 15_000, keepAliveTimeout: 60_000 },
      createApiHandler({ collection, version: options.version ?? TOXIPROXY_VERSION, metrics }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen({ host: ip, port: options.port ?? 0 }, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      collection.closeAll();
      throw new Error(
        `toxiproxy: cannot listen on ${formatAddress(ip, options.port ?? 0)}: ${(error as Error).message}; choose another host/port`,
      );
    }
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new ToxiproxyServer(http, collection, ip, port);
  }

  /** Live proxied connections across all proxies (dials in flight included). */
  get connectionCount(): number {
    return this.#collection.connectionCount;
  }

  /** Stops every proxy (dropping its connections) and the HTTP API. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#collection.closeAll();
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    return this.#closing;
  }
}

/** Starts an embedded Toxiproxy server: `const server = await start(); new Toxiproxy(server.url)`. */
export function start(options?: StartOptions): Promise<ToxiproxyServer> {
  return ToxiproxyServer.start(options);
}
