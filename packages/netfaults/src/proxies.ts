// The proxies of one environment: created on the server (the first free listen index; on a
// shared server a published port another run took meanwhile is retried), found by name, and on
// a shared server deleted on close (its own only).
import type { Proxy as ClientProxy, Toxiproxy } from 'toxiproxy-node-client';
import { type HostPort, joinHostPort, type StartedBackend, splitHostPort } from './backend.ts';
import { trackProxy, untrackProxy } from './cleanup.ts';
import { describeError, settleAll } from './settle.ts';

/** A dependency behind a proxy. */
export interface NetProxy {
  readonly name: string;
  /** The proxy's name on the server: `name`, prefixed with the environment's `proxyPrefix` on a shared (external) server. */
  readonly serverName: string;
  /** Where the system under test connects (from this machine). */
  readonly host: string;
  readonly port: number;
  /** `host:port` of the above. */
  readonly address: string;
  /** For containers on the shared network (bridge networking with `network`): `alias:port`. */
  readonly networkAddress: string | undefined;
  /** The upstream as given. */
  readonly upstream: string;
  /** The upstream the server dials (differs in bridge networking: host.testcontainers.internal). */
  readonly serverUpstream: string;
  /** What the server listens on (its own view, e.g. `127.0.0.1:41234` or `0.0.0.0:8666`). */
  readonly listen: string;
  /** The toxiproxy-node-client proxy object. */
  readonly client: ClientProxy;
  /** `http://host:port` + path, for HTTP dependencies. */
  url(path?: string): string;
}

/** A proxy or its name, as the environment's methods take them. */
export type ProxyRef = NetProxy | string;

export class ProxyTable {
  readonly #backend: StartedBackend;
  readonly #client: Toxiproxy;
  readonly #prefix: string;
  readonly #proxies = new Map<string, NetProxy>();
  readonly #listenIndexes = new Set<number>();

  constructor(backend: StartedBackend, client: Toxiproxy, prefix: string) {
    this.#backend = backend;
    this.#client = client;
    this.#prefix = prefix;
  }

  get byName(): ReadonlyMap<string, NetProxy> {
    return this.#proxies;
  }

  /** Creates proxy `name` in front of `upstream` (see NetworkEnvironment.proxy). */
  async create(name: string, upstream: string | number | HostPort): Promise<NetProxy> {
    const given = upstreamAddress(upstream);
    splitHostPort(given); // validates
    const serverUpstream = await this.#backend.upstreamFor(given);
    let index = 0;
    while (this.#listenIndexes.has(index)) index++;
    const serverName = `${this.#prefix}${name}`;
    const client = await this.#createOnServer(serverName, index, serverUpstream);
    this.#listenIndexes.add(index);
    const proxy = this.#describe(name, serverName, given, serverUpstream, client);
    this.#proxies.set(name, proxy);
    return proxy;
  }

  #describe(name: string, serverName: string, upstream: string, serverUpstream: string, client: ClientProxy): NetProxy {
    const { host, port } = this.#backend.addressOf(client.listen);
    const network = this.#backend.networkAddressOf(client.listen);
    const address = joinHostPort(host, port);
    return {
      name,
      serverName,
      host,
      port,
      address,
      networkAddress: network ? joinHostPort(network.host, network.port) : undefined,
      upstream,
      serverUpstream,
      listen: client.listen,
      client,
      url: (path = '/') => `http://${address}${path.startsWith('/') ? path : `/${path}`}`,
    };
  }

  /**
   * Creates the proxy on the server. On a shared server it is tracked for the exit hook, and a
   * port of the published range that another environment took meanwhile (HTTP 500, address in
   * use) is retried with another free one.
   */
  async #createOnServer(serverName: string, index: number, upstream: string): Promise<ClientProxy> {
    for (let attempt = 1; ; attempt++) {
      const listen = await this.#backend.listenFor(index, attempt - 1);
      try {
        const created = await this.#client.createProxy({ name: serverName, listen, upstream });
        if (this.#backend.shared) trackProxy(this.#backend.apiUrl, serverName);
        return created;
      } catch (error) {
        const portTaken = /status code 500/.test(describeError(error)) && !listen.endsWith(':0');
        if (!this.#backend.shared || !portTaken || attempt >= 3) throw error;
      }
    }
  }

  resolve(proxy: ProxyRef): NetProxy {
    if (typeof proxy !== 'string') return proxy;
    const found = this.#proxies.get(proxy);
    if (!found)
      throw new Error(`netfaults: no proxy named "${proxy}" in this environment (create it with env.proxy())`);
    return found;
  }

  /** Shared server: deletes this environment's proxies (tracked, and any other with its prefix). */
  async deleteOwn(): Promise<void> {
    if (!this.#backend.shared) return;
    const apiUrl = this.#backend.apiUrl;
    const names = new Set([...this.#proxies.values()].map((p) => p.serverName));
    const all = await this.#client.getAll().catch(() => ({}));
    for (const name of Object.keys(all)) if (name.startsWith(this.#prefix)) names.add(name);
    await settleAll(
      [...names].map((name) => async () => {
        const res = await fetch(`${apiUrl}/proxies/${encodeURIComponent(name)}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(5000),
        });
        await res.body?.cancel();
        if (!res.ok && res.status !== 404)
          throw new Error(`netfaults: deleting proxy ${name} answered HTTP ${res.status}`);
        untrackProxy(apiUrl, name);
      }),
    );
  }
}

/** `host:port` of an upstream given as that, as a port on 127.0.0.1, or as `{ host, port }`. */
function upstreamAddress(upstream: string | number | HostPort): string {
  if (typeof upstream === 'number') return `127.0.0.1:${upstream}`;
  if (typeof upstream === 'string') return upstream;
  return joinHostPort(upstream.host, upstream.port);
}
