import { asObject, boolField, stringField } from './decode.ts';
import {
  type ApiError,
  badRequestBody,
  missingField,
  proxyAlreadyExists,
  proxyNotFound,
  toApiError,
} from './errors.ts';
import { type ProxyContext, TcpProxy } from './proxy.ts';

/** One entry of `/populate` and of the `-config` file. */
export interface ProxyConfig {
  name: string;
  listen: string;
  upstream: string;
  /** Defaults to true. */
  enabled?: boolean;
}

/** What `/populate` did: the proxies handled so far, and the error that stopped it. */
export interface PopulateResult {
  proxies: TcpProxy[] | null;
  error?: ApiError;
}

/** All proxies of a server, by name (Toxiproxy's `ProxyCollection`). */
export class ProxyCollection {
  readonly #proxies = new Map<string, TcpProxy>();
  readonly #context: ProxyContext;

  constructor(context: ProxyContext) {
    this.#context = context;
  }

  /** Sorted by name, like Go's JSON map output. */
  list(): TcpProxy[] {
    return [...this.#proxies.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get(name: string): TcpProxy {
    const proxy = this.#proxies.get(name);
    if (!proxy) throw proxyNotFound();
    return proxy;
  }

  get connectionCount(): number {
    let count = 0;
    for (const proxy of this.#proxies.values()) count += proxy.connectionCount;
    return count;
  }

  create(name: string, listen: string, upstream: string): TcpProxy {
    return new TcpProxy(name, listen, upstream, this.#context);
  }

  /** Name checked before binding (409 first); a proxy that fails to start is not added. */
  async add(proxy: TcpProxy, start: boolean): Promise<void> {
    if (this.#proxies.has(proxy.name)) throw proxyAlreadyExists();
    if (start) await proxy.start();
    if (this.#proxies.has(proxy.name)) {
      proxy.stop();
      throw proxyAlreadyExists();
    }
    this.#proxies.set(proxy.name, proxy);
  }

  /**
   * Keeps an existing proxy with the same name whose listen (after resolving) and upstream
   * match, untouched; otherwise replaces it. Returns the proxy now in the collection.
   */
  async addOrReplace(proxy: TcpProxy, start: boolean): Promise<TcpProxy> {
    const existing = this.#proxies.get(proxy.name);
    if (existing) {
      const same = await existing.differs(proxy.listen, proxy.upstream).then(
        (differs) => !differs,
        () => false,
      );
      if (same) return existing;
      existing.stop();
      this.#proxies.delete(proxy.name);
    }
    if (start) await proxy.start();
    this.#proxies.set(proxy.name, proxy);
    return proxy;
  }

  remove(name: string): void {
    const proxy = this.get(name);
    proxy.stop();
    this.#proxies.delete(name);
  }

  /** `/populate`: validate every entry first (nothing created on error), then apply in order. */
  async populate(body: unknown): Promise<PopulateResult> {
    let entries: Array<Required<ProxyConfig>>;
    try {
      entries = validateEntries(body);
    } catch (error) {
      return { proxies: null, error: toApiError(error) };
    }
    const proxies: TcpProxy[] = [];
    for (const entry of entries) {
      try {
        proxies.push(await this.addOrReplace(this.create(entry.name, entry.listen, entry.upstream), entry.enabled));
      } catch (error) {
        return { proxies: proxies.length > 0 ? proxies : null, error: toApiError(error) };
      }
    }
    return { proxies };
  }

  closeAll(): void {
    for (const proxy of this.#proxies.values()) proxy.stop();
    this.#proxies.clear();
  }
}

function validateEntries(body: unknown): Array<Required<ProxyConfig>> {
  if (body !== null && !Array.isArray(body)) {
    const kind = typeof body === 'object' ? 'object' : typeof body === 'boolean' ? 'bool' : typeof body;
    throw badRequestBody(`json: cannot unmarshal ${kind} into Go value of type []toxiproxy.Proxy`);
  }
  return (body ?? []).map((value: unknown, i: number) => {
    const entry = asObject(value, 'struct { toxiproxy.Proxy; Enabled *bool }');
    const name = stringField(entry, 'name', 'Proxy') ?? '';
    const upstream = stringField(entry, 'upstream', 'Proxy') ?? '';
    if (name === '') throw missingField(`name at proxy ${i + 1}`);
    if (upstream === '') throw missingField(`upstream at proxy ${i + 1}`);
    return {
      name,
      listen: stringField(entry, 'listen', 'Proxy') ?? '',
      upstream,
      enabled: boolField(entry, 'enabled', 'Proxy') ?? true,
    };
  });
}
