// A layer-3 network environment: a Toxiproxy server (embedded, in a container, or shared), the
// toxiproxy-node-client pointed at it, and helpers that put dependencies behind proxies
// (proxies.ts), apply test-scoped faults (faults/: one file per kind, each undone through one
// `Fault` interface that records its evidence) and undo what a test left (faults/registry.ts).
import { Toxiproxy } from 'toxiproxy-node-client';
import type { BackendName, ContainerNetworking, HostPort, StartedBackend } from './backend.ts';
import type { Fault, FaultContext } from './faults/fault.ts';
import type { PartitionHandle, PartitionOptions, ToxicHandle, ToxicSpec } from './faults/handles.ts';
import { applyPartition } from './faults/partition.ts';
import { FaultRegistry } from './faults/registry.ts';
import { applyToxic } from './faults/toxic.ts';
import { type NetProxy, type ProxyRef, ProxyTable } from './proxies.ts';
import { type NetworkScope, Scope } from './scope.ts';

/**
 * A running layer-3 environment. Create it with `createNetworkEnvironment()`; `close()` (or
 * `await using`) removes every toxic and partition (recording their evidence) and stops the
 * server or container.
 */
export class NetworkEnvironment implements AsyncDisposable {
  /** The backend actually used. */
  readonly backend: BackendName;
  /** toxiproxy-node-client pointed at this environment's server. */
  readonly client: Toxiproxy;
  /** Base URL of the Toxiproxy HTTP API. */
  readonly apiUrl: string;
  /** The engine (containers backend), e.g. "Podman Engine 4.3.1". */
  readonly containerRuntime: string | undefined;
  /** The Toxiproxy image (containers backend). */
  readonly image: string | undefined;
  /** `host` or `bridge` (containers backend). */
  readonly networking: ContainerNetworking | undefined;
  /** External backend: `Toxiproxy <version> at <API URL>` (what the run reports); undefined otherwise. */
  readonly toxiproxyServer: string | undefined;
  /** External backend: the prefix of every proxy this environment creates (`faultline-<8 hex>-`); `''` otherwise. */
  readonly proxyPrefix: string;
  readonly #backend: StartedBackend;
  readonly #proxies: ProxyTable;
  readonly #faults = new FaultRegistry();
  readonly #faultContext: FaultContext;
  #closing: Promise<void> | undefined;

  /** @internal use createNetworkEnvironment() */
  constructor(backend: StartedBackend) {
    this.#backend = backend;
    this.backend = backend.backend;
    this.apiUrl = backend.apiUrl;
    this.containerRuntime = backend.containerRuntime;
    this.image = backend.image;
    this.networking = backend.networking;
    this.toxiproxyServer = backend.shared?.server;
    this.proxyPrefix = backend.shared?.prefix ?? '';
    this.client = new Toxiproxy(backend.apiUrl);
    this.#proxies = new ProxyTable(backend, this.client, this.proxyPrefix);
    this.#faultContext = {
      apiUrl: this.apiUrl,
      backend: this.backend,
      networking: this.networking,
      portsAreLocal: this.backend === 'embedded' || this.networking === 'host' || backend.shared?.localPorts === true,
      faults: this.#faults,
    };
  }

  /** Proxies created through this environment, by name. */
  get proxies(): ReadonlyMap<string, NetProxy> {
    return this.#proxies.byName;
  }

  #assertOpen(): void {
    if (this.#closing) throw new Error('netfaults: the network environment is closed');
  }

  /**
   * Puts a dependency behind a proxy named `name`. `upstream` is `host:port`, a port on
   * 127.0.0.1, or `{ host, port }`, as this machine (or the container network) reaches it.
   * Returns the address the system under test should use instead.
   */
  async proxy(name: string, upstream: string | number | HostPort): Promise<NetProxy> {
    this.#assertOpen();
    return this.#proxies.create(name, upstream);
  }

  /**
   * Adds a toxic. Remove it with `handle.remove()`, `await using`, a `scope()`, or
   * `resetToxics()` in afterEach; removal records `toxic` evidence with the bytes that flowed
   * while it was active. Nothing is recorded when the API call fails.
   */
  toxic(proxy: NetProxy | string, spec: ToxicSpec): Promise<ToxicHandle> {
    return this.#toxic(proxy, spec);
  }

  async #toxic(proxy: ProxyRef, spec: ToxicSpec): Promise<ToxicHandle & Fault> {
    this.#assertOpen();
    return applyToxic(this.#faultContext, this.#proxies.resolve(proxy), spec);
  }

  /** Cuts the proxies off their upstreams until `heal()`; records `partition` evidence on heal. */
  partition(
    proxies: NetProxy | string | ReadonlyArray<NetProxy | string>,
    options?: PartitionOptions,
  ): Promise<PartitionHandle> {
    return this.#partition(proxies, options);
  }

  async #partition(
    proxies: ProxyRef | ReadonlyArray<ProxyRef>,
    options: PartitionOptions = {},
  ): Promise<PartitionHandle & Fault> {
    this.#assertOpen();
    const list = (Array.isArray(proxies) ? proxies : [proxies]).map((p: ProxyRef) => this.#proxies.resolve(p));
    return applyPartition(this.#faultContext, list, options.mode ?? 'refuse');
  }

  /** Heals every open partition of this environment. */
  async heal(): Promise<void> {
    await this.#faults.undo('partition');
  }

  /** Removes every toxic and heals every partition of this environment, recording evidence. For afterEach. */
  async resetToxics(): Promise<void> {
    await this.#faults.undo();
  }

  /** A scope whose toxics and partitions are removed on `close()` / `await using`. */
  scope(): NetworkScope {
    return new Scope({ toxic: (proxy, spec) => this.#toxic(proxy, spec), partition: (p, o) => this.#partition(p, o) });
  }

  /**
   * Removes all toxics and partitions (recording evidence), then stops the server or container
   * (external: deletes only this environment's proxies, never calls `/reset`). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.resetToxics();
      } finally {
        try {
          await this.#proxies.deleteOwn();
        } finally {
          await this.#backend.close();
        }
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
