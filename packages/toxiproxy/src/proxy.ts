import { connect, createServer, type Server, type Socket } from 'node:net';
import { formatAddress, isWildcard, resolvedString, resolveHost, splitHostPort } from './address.ts';
import { Connection } from './connection.ts';
import { ApiError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { adopt, Reader } from './reader.ts';
import { ToxicCollection } from './toxic-collection.ts';
import type { ToxicJson } from './toxic-wrapper.ts';

/** JSON shape of a proxy, keys in the real server's order (`Logger` is its artefact, kept). */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  Logger: Record<string, never>;
  toxics: ToxicJson[];
}

export interface ProxyContext {
  random: () => number;
  metrics: Metrics | undefined;
}

/** Go's text for the bind errors clients may compare (`bind: address already in use`). */
const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
};

/**
 * One proxy: a listener on `listen` that joins every accepted client to a fresh connection
 * to `upstream`. Disabling closes the listener and every live connection; toxics stay.
 */
export class TcpProxy {
  readonly name: string;
  listen: string;
  upstream: string;
  readonly toxics: ToxicCollection;
  readonly #context: ProxyContext;
  #server: Server | undefined;
  #starting = false;
  readonly #connections = new Set<Connection>();
  /** Clients whose upstream dial is still in flight. */
  readonly #dialing = new Set<Socket>();

  constructor(name: string, listen: string, upstream: string, context: ProxyContext) {
    this.name = name;
    this.listen = listen;
    this.upstream = upstream;
    this.#context = context;
    this.toxics = new ToxicCollection((toxic, type, direction) =>
      context.metrics?.toxicCounter(name, toxic, type, direction),
    );
  }

  get enabled(): boolean {
    return this.#server !== undefined;
  }

  get connectionCount(): number {
    return this.#connections.size + this.#dialing.size;
  }

  /** Binds `listen` and records the bound address as the new `listen`. */
  async start(): Promise<void> {
    if (this.#server || this.#starting) throw new Error('Proxy already started');
    this.#starting = true;
    try {
      const { host, port } = this.#split(this.listen);
      const ip = isWildcard(host) ? '' : await this.#resolve(host);
      const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, this.#accept);
      const bound = await listen(server, ip, port);
      this.#server = server;
      this.listen = bound;
    } finally {
      this.#starting = false;
    }
  }

  /** Idempotent: closes the listener and drops every connection. */
  stop(): void {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.close();
    for (const connection of this.#connections) connection.close();
    for (const client of this.#dialing) client.destroy();
  }

  /** Whether `listen`/`upstream` differ from the current ones (listen compared after resolving). */
  async differs(listen: string, upstream: string): Promise<boolean> {
    let resolved: string;
    try {
      resolved = await resolvedString(listen);
    } catch (error) {
      throw new ApiError((error as Error).message, 500);
    }
    return resolved !== this.listen || upstream !== this.upstream;
  }

  toJSON(): ProxyJson {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      Logger: {},
      toxics: this.toxics.list().map((toxic) => toxic.toJSON()),
    };
  }

  #split(address: string): { host: string; port: number } {
    try {
      return splitHostPort(address);
    } catch (error) {
      throw new Error(`listen tcp: ${(error as Error).message}`);
    }
  }

  async #resolve(host: string): Promise<string> {
    try {
      return await resolveHost(host);
    } catch (error) {
      throw new Error(`listen tcp: ${(error as Error).message}`);
    }
  }

  #accept = (accepted: Socket): void => {
    // Both sockets read through `onread` into reused buffers (see reader.ts); the accepted
    // one has to be re-wrapped for that, which falls back to plain `'data'` reads.
    const clientReader = new Reader();
    const client = adopt(accepted, clientReader);
    const upstreamReader = new Reader();
    client.on('error', ignore);
    let target: { host: string; port: number };
    try {
      target = splitHostPort(this.upstream);
    } catch {
      client.destroy();
      return;
    }
    // Deviation: Toxiproxy dials synchronously in its accept loop; we dial concurrently.
    this.#dialing.add(client);
    const upstream = connect({
      host: target.host || 'localhost',
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: upstreamReader.options,
    });
    upstream.on('error', ignore);
    const abandon = (): void => {
      this.#dialing.delete(client);
      upstream.destroy();
      client.destroy();
    };
    client.once('close', abandon);
    upstream.once('close', abandon);
    upstream.once('connect', () => {
      client.off('close', abandon);
      upstream.off('close', abandon);
      this.#dialing.delete(client);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      const connection = new Connection(client, upstream, this.toxics, this.#context.random, this.#closed, {
        client: client === accepted ? undefined : clientReader,
        upstream: upstreamReader,
      });
      this.#connections.add(connection);
      client.resume();
    });
  };

  #closed = (connection: Connection): void => {
    this.#connections.delete(connection);
    this.#context.metrics?.record(this, connection);
  };
}

function ignore(): void {}

/** Listens and reports the bound address as Go does (`[::]:port` for every interface). */
function listen(server: Server, ip: string, port: number): Promise<string> {
  const attempt = (host: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => reject(error);
      server.once('error', onError);
      server.listen({ host, port, ipv6Only: false }, () => {
        server.off('error', onError);
        resolve();
      });
    });
  const fail = (error: NodeJS.ErrnoException, shown: string): Error => {
    const why = BIND_ERRORS[error.code ?? ''];
    return new Error(why ? `listen tcp ${shown}: bind: ${why}` : `listen tcp ${shown}: ${error.message}`);
  };
  if (ip !== '') {
    return attempt(ip).then(
      () => formatAddress(ip, port === 0 ? boundPort(server) : port),
      (error: NodeJS.ErrnoException) => Promise.reject(fail(error, formatAddress(ip, port))),
    );
  }
  // Every interface: dual-stack `::`, or IPv4 only where IPv6 is unavailable.
  return attempt('::')
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL') return attempt('0.0.0.0');
      throw error;
    })
    .then(
      () => `[::]:${boundPort(server)}`,
      (error: NodeJS.ErrnoException) => Promise.reject(fail(error, `:${port}`)),
    );
}

function boundPort(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
