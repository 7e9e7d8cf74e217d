// A layer-3 network environment: a Toxiproxy server (embedded or in a container), the
// toxiproxy-node-client pointed at it, and helpers that put dependencies behind proxies,
// add test-scoped toxics and partitions, and record evidence for each fault applied.
import { recordFault } from '@faultline/evidence';
import { type Proxy as ClientProxy, type Toxic as ClientToxic, Toxiproxy } from 'toxiproxy-node-client';
import {
  type BackendName,
  type ContainerNetworking,
  type HostPort,
  joinHostPort,
  type StartedBackend,
  splitHostPort,
} from './backend.ts';
import { trackProxy, untrackProxy } from './cleanup.ts';
import { type PartitionMeasure, partitionEvidence, type ToxicMeasure, toxicEvidence } from './evidence.ts';
import { bytesBetween, type MetricsSnapshot, readProxyMetrics, toxicBetween } from './metrics.ts';
import { Refuser } from './refuser.ts';

export type ToxicStream = 'upstream' | 'downstream';

interface ToxicCommon {
  /** Toxic name on the proxy; default `<type>_<stream>` (suffixed when taken). */
  name?: string;
  /** `downstream` (server → client, the default) or `upstream` (client → server). */
  stream?: ToxicStream;
  /** Fraction of connections affected, 0..1 (default 1). */
  toxicity?: number;
}

/** A toxic to add, typed per Toxiproxy v2.12 toxic type (attributes in Toxiproxy's units). */
export type ToxicSpec = ToxicCommon &
  (
    | { type: 'latency'; attributes: { latency: number; jitter?: number } }
    | { type: 'bandwidth'; attributes: { rate: number } }
    | { type: 'slow_close'; attributes: { delay: number } }
    | { type: 'timeout'; attributes: { timeout: number } }
    | { type: 'reset_peer'; attributes?: { timeout?: number } }
    | { type: 'slicer'; attributes: { average_size: number; size_variation?: number; delay?: number } }
    | { type: 'limit_data'; attributes: { bytes: number } }
  );

export type ToxicType = ToxicSpec['type'];

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

/** What a removed toxic recorded as evidence. */
export interface ToxicReport {
  proxy: string;
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
  activeMs: number;
  /**
   * Bytes the toxic acted on, in its stream, counted by the server per toxic as they reached it;
   * on real Toxiproxy the proxy's bytes of connections that closed while it was active (see
   * `counter`); undefined when the server has no /metrics.
   */
  bytes: { upstream: number; downstream: number; total: number } | undefined;
  /** Connections the toxic acted on (per-toxic counters only). */
  connections: number | undefined;
  /** Whether it acted on anything; undefined when the backend cannot tell. */
  acted: boolean | undefined;
  /** Where the numbers come from: `toxic` (per toxic, as they flow), `proxy` (per proxy, at close), `none`. */
  counter: ToxicMeasure['counter'];
  detail: string;
}

/** A toxic added through the environment. Remove it (or let `await using` do it) to record its evidence. */
export interface ToxicHandle extends AsyncDisposable {
  readonly proxy: NetProxy;
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
  readonly client: ClientToxic<unknown>;
  readonly removed: boolean;
  /** Changes attributes (and optionally toxicity) in place; the evidence reports the last values. */
  update(attributes: Record<string, number>, toxicity?: number): Promise<void>;
  /** Removes the toxic and records evidence; idempotent (later calls return the first report). */
  remove(): Promise<ToxicReport>;
}

export type PartitionMode = 'refuse' | 'blackhole';

export interface PartitionOptions {
  /**
   * `refuse` (default): the proxy is disabled, so new connections are refused and open ones
   * are closed. `blackhole`: connections are accepted but no byte passes either way
   * (timeout toxics with timeout 0), until healed.
   */
  mode?: PartitionMode;
}

export interface PartitionHandle extends AsyncDisposable {
  readonly proxies: readonly NetProxy[];
  readonly mode: PartitionMode;
  readonly healed: boolean;
  /**
   * Restores the proxies and records `partition` evidence: the connection attempts refused, or
   * the connections and bytes black-holed (a partition nobody hit records a `count: 0` entry).
   * Idempotent.
   */
  heal(): Promise<void>;
}

/** Toxics and partitions made through a scope are removed when it is disposed. */
export interface NetworkScope extends AsyncDisposable {
  toxic(proxy: NetProxy | string, spec: ToxicSpec): Promise<ToxicHandle>;
  partition(
    proxies: NetProxy | string | ReadonlyArray<NetProxy | string>,
    options?: PartitionOptions,
  ): Promise<PartitionHandle>;
  /** Removes this scope's toxics and heals its partitions, recording evidence. */
  close(): Promise<void>;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /status code 404/.test(error.message);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs every cleanup, then throws the first failure (so one failing removal does not leak the rest). */
async function settleAll(tasks: Array<() => Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks.map((t) => t()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new AggregateError(failed, `netfaults: ${failed.length} cleanups failed`);
}

class Toxic implements ToxicHandle {
  readonly proxy: NetProxy;
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
  readonly client: ClientToxic<unknown>;
  readonly #env: NetworkEnvironment;
  readonly #before: MetricsSnapshot | undefined;
  readonly #addedAt: number;
  #removing: Promise<ToxicReport> | undefined;

  constructor(
    env: NetworkEnvironment,
    proxy: NetProxy,
    client: ClientToxic<unknown>,
    spec: { name: string; type: ToxicType; stream: ToxicStream; toxicity: number; attributes: Record<string, number> },
    before: MetricsSnapshot | undefined,
  ) {
    this.#env = env;
    this.proxy = proxy;
    this.client = client;
    this.name = spec.name;
    this.type = spec.type;
    this.stream = spec.stream;
    this.toxicity = spec.toxicity;
    this.attributes = spec.attributes;
    this.#before = before;
    this.#addedAt = performance.now();
  }

  get removed(): boolean {
    return this.#removing !== undefined;
  }

  async update(attributes: Record<string, number>, toxicity = this.toxicity): Promise<void> {
    if (this.#removing) throw new Error(`netfaults: toxic ${this.proxy.name}/${this.name} was already removed`);
    const merged = { ...this.attributes, ...attributes };
    await this.client.update({
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity,
      attributes: merged,
    });
    this.attributes = merged;
    this.toxicity = toxicity;
  }

  remove(): Promise<ToxicReport> {
    this.#removing ??= this.#remove();
    return this.#removing;
  }

  async #remove(): Promise<ToxicReport> {
    const activeMs = Math.round(performance.now() - this.#addedAt);
    let failure: unknown;
    try {
      await this.client.remove();
    } catch (error) {
      if (!isNotFound(error)) failure = error; // 404: the proxy (and its toxics) is already gone
    }
    this.#env._forget(this);
    const after = this.#before ? await readProxyMetrics(this.#env.apiUrl) : undefined;
    const measure = measureToxic(this.#before, after, this.proxy.serverName, this.name);
    const { evidence, bytes, connections, acted } = toxicEvidence(
      {
        proxy: this.proxy.name,
        name: this.name,
        type: this.type,
        stream: this.stream,
        toxicity: this.toxicity,
        attributes: this.attributes,
        activeMs,
        backend: this.#env.backend,
      },
      measure,
    );
    recordFault(evidence);
    if (failure !== undefined) {
      throw new Error(`netfaults: removing toxic ${this.proxy.name}/${this.name} failed: ${describeError(failure)}`, {
        cause: failure,
      });
    }
    return {
      proxy: this.proxy.name,
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity: this.toxicity,
      attributes: { ...this.attributes },
      activeMs,
      bytes,
      connections,
      acted,
      counter: measure.counter,
      detail: evidence.detail,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

/** What a toxic acted on, from the best counters the server has (see metrics.ts). */
function measureToxic(
  before: MetricsSnapshot | undefined,
  after: MetricsSnapshot | undefined,
  proxy: string,
  toxic: string,
): ToxicMeasure {
  if (!before || !after) return { counter: 'none' };
  const counts = toxicBetween(before, after, proxy, toxic);
  if (counts) return { counter: 'toxic', counts };
  return { counter: 'proxy', flow: bytesBetween(before, after, proxy) };
}

const PARTITION_TOXICS = { upstream: 'faultline_partition_upstream', downstream: 'faultline_partition_downstream' };

/** What a blackhole partition's timeout toxics swallowed between two snapshots. */
function measureBlackhole(
  before: MetricsSnapshot | undefined,
  after: MetricsSnapshot | undefined,
  proxy: string,
): PartitionMeasure {
  if (!before || !after) return { counter: 'none', why: 'the server has no /metrics' };
  const up = toxicBetween(before, after, proxy, PARTITION_TOXICS.upstream);
  const down = toxicBetween(before, after, proxy, PARTITION_TOXICS.downstream);
  if (up && down) {
    // A connection usually loses bytes in one direction only (its request, or the reply).
    return { counter: 'toxic', connections: Math.max(up.connections, down.connections), bytes: up.bytes + down.bytes };
  }
  const flow = bytesBetween(before, after, proxy);
  return { counter: 'proxy', bytes: flow.upstream + flow.downstream };
}

/**
 * One proxy of a partition: `undo` reverts it (when applying the partition failed); `heal`
 * reverts it and measures what it acted on, in the order its counters need.
 */
interface PartitionPart {
  proxy: NetProxy;
  undo: () => Promise<void>;
  heal: () => Promise<PartitionMeasure>;
}

class Partition implements PartitionHandle {
  readonly proxies: readonly NetProxy[];
  readonly mode: PartitionMode;
  readonly #env: NetworkEnvironment;
  readonly #startedAt = performance.now();
  readonly #parts: PartitionPart[];
  #healing: Promise<void> | undefined;

  constructor(env: NetworkEnvironment, parts: PartitionPart[], mode: PartitionMode) {
    this.#env = env;
    this.proxies = parts.map((part) => part.proxy);
    this.mode = mode;
    this.#parts = parts;
  }

  get healed(): boolean {
    return this.#healing !== undefined;
  }

  heal(): Promise<void> {
    this.#healing ??= this.#heal();
    return this.#healing;
  }

  async #heal(): Promise<void> {
    const durationMs = Math.round(performance.now() - this.#startedAt);
    this.#env._forget(this);
    const measures = new Map<PartitionPart, PartitionMeasure>();
    try {
      await settleAll(this.#parts.map((part) => async () => void measures.set(part, await part.heal())));
    } finally {
      for (const part of this.#parts) {
        const { proxy: p } = part;
        const facts = { proxy: p.name, address: p.address, upstream: p.upstream, mode: this.mode, durationMs };
        const measure = measures.get(part) ?? { counter: 'none', why: 'healing it failed' };
        recordFault(partitionEvidence({ ...facts, backend: this.#env.backend }, measure));
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.heal();
  }
}

type Fault = Toxic | Partition;

class Scope implements NetworkScope {
  readonly #env: NetworkEnvironment;
  readonly #faults = new Set<Fault>();

  constructor(env: NetworkEnvironment) {
    this.#env = env;
  }

  async toxic(proxy: NetProxy | string, spec: ToxicSpec): Promise<ToxicHandle> {
    const t = await this.#env.toxic(proxy, spec);
    this.#faults.add(t as Toxic);
    return t;
  }

  async partition(
    proxies: NetProxy | string | ReadonlyArray<NetProxy | string>,
    options?: PartitionOptions,
  ): Promise<PartitionHandle> {
    const p = await this.#env.partition(proxies, options);
    this.#faults.add(p as Partition);
    return p;
  }

  async close(): Promise<void> {
    const faults = [...this.#faults];
    this.#faults.clear();
    await settleAll(faults.map((f) => () => (f instanceof Toxic ? f.remove() : f.heal())));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

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
  readonly #proxies = new Map<string, NetProxy>();
  readonly #listenIndexes = new Set<number>();
  readonly #faults = new Set<Fault>();
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
  }

  /** Proxies created through this environment, by name. */
  get proxies(): ReadonlyMap<string, NetProxy> {
    return this.#proxies;
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
    const given =
      typeof upstream === 'number'
        ? `127.0.0.1:${upstream}`
        : typeof upstream === 'string'
          ? upstream
          : joinHostPort(upstream.host, upstream.port);
    splitHostPort(given); // validates
    const serverUpstream = await this.#backend.upstreamFor(given);
    let index = 0;
    while (this.#listenIndexes.has(index)) index++;
    const serverName = `${this.proxyPrefix}${name}`;
    const client = await this.#createProxy(serverName, index, serverUpstream);
    this.#listenIndexes.add(index);
    const { host, port } = this.#backend.addressOf(client.listen);
    const network = this.#backend.networkAddressOf(client.listen);
    const address = joinHostPort(host, port);
    const proxy: NetProxy = {
      name,
      serverName,
      host,
      port,
      address,
      networkAddress: network ? joinHostPort(network.host, network.port) : undefined,
      upstream: given,
      serverUpstream,
      listen: client.listen,
      client,
      url: (path = '/') => `http://${address}${path.startsWith('/') ? path : `/${path}`}`,
    };
    this.#proxies.set(name, proxy);
    return proxy;
  }

  /**
   * Creates the proxy on the server. On a shared server it is tracked for the exit hook, and a
   * port of the published range that another environment took meanwhile (HTTP 500, address in
   * use) is retried with another free one.
   */
  async #createProxy(serverName: string, index: number, upstream: string): Promise<ClientProxy> {
    for (let attempt = 1; ; attempt++) {
      const listen = await this.#backend.listenFor(index, attempt - 1);
      try {
        const created = await this.client.createProxy({ name: serverName, listen, upstream });
        if (this.#backend.shared) trackProxy(this.apiUrl, serverName);
        return created;
      } catch (error) {
        const portTaken = /status code 500/.test(describeError(error)) && !listen.endsWith(':0');
        if (!this.#backend.shared || !portTaken || attempt >= 3) throw error;
      }
    }
  }

  /** Shared server: deletes this environment's proxies (tracked, and any other with its prefix). */
  async #deleteOwnProxies(): Promise<void> {
    if (!this.#backend.shared) return;
    const names = new Set([...this.#proxies.values()].map((p) => p.serverName));
    const all = await this.client.getAll().catch(() => ({}));
    for (const name of Object.keys(all)) if (name.startsWith(this.proxyPrefix)) names.add(name);
    await settleAll(
      [...names].map((name) => async () => {
        const res = await fetch(`${this.apiUrl}/proxies/${encodeURIComponent(name)}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(5000),
        });
        await res.body?.cancel();
        if (!res.ok && res.status !== 404)
          throw new Error(`netfaults: deleting proxy ${name} answered HTTP ${res.status}`);
        untrackProxy(this.apiUrl, name);
      }),
    );
  }

  #resolve(proxy: NetProxy | string): NetProxy {
    if (typeof proxy !== 'string') return proxy;
    const found = this.#proxies.get(proxy);
    if (!found)
      throw new Error(`netfaults: no proxy named "${proxy}" in this environment (create it with env.proxy())`);
    return found;
  }

  /**
   * Adds a toxic. Remove it with `handle.remove()`, `await using`, a `scope()`, or
   * `resetToxics()` in afterEach; removal records `toxic` evidence with the bytes that flowed
   * while it was active. Nothing is recorded when the API call fails.
   */
  async toxic(proxy: NetProxy | string, spec: ToxicSpec): Promise<ToxicHandle> {
    this.#assertOpen();
    const p = this.#resolve(proxy);
    const stream = spec.stream ?? 'downstream';
    const toxicity = spec.toxicity ?? 1;
    const attributes: Record<string, number> = { ...(spec.attributes ?? {}) };
    let name = spec.name;
    if (name === undefined) {
      const base = `${spec.type}_${stream}`;
      const taken = new Set(
        [...this.#faults].filter((f): f is Toxic => f instanceof Toxic && f.proxy === p).map((f) => f.name),
      );
      name = base;
      for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    }
    const before = await readProxyMetrics(this.apiUrl);
    const client = await p.client.addToxic<Record<string, number>>({
      name,
      type: spec.type,
      stream,
      toxicity,
      attributes,
    });
    const applied = { ...attributes, ...(client.attributes ?? {}) };
    const toxic = new Toxic(this, p, client, { name, type: spec.type, stream, toxicity, attributes: applied }, before);
    this.#faults.add(toxic);
    return toxic;
  }

  /** Cuts the proxies off their upstreams until `heal()`; records `partition` evidence on heal. */
  async partition(
    proxies: NetProxy | string | ReadonlyArray<NetProxy | string>,
    options: PartitionOptions = {},
  ): Promise<PartitionHandle> {
    this.#assertOpen();
    const list = (Array.isArray(proxies) ? proxies : [proxies]).map((p: NetProxy | string) => this.#resolve(p));
    const mode = options.mode ?? 'refuse';
    const parts: PartitionPart[] = [];
    try {
      for (const p of list) parts.push(mode === 'refuse' ? await this.#refuse(p) : await this.#blackhole(p));
    } catch (error) {
      // Nothing is recorded for a partition that was not applied; undo what was.
      await settleAll(parts.map((part) => part.undo)).catch(() => undefined);
      throw error;
    }
    const partition = new Partition(this, parts, mode);
    this.#faults.add(partition);
    return partition;
  }

  /** Whether proxy ports are on this machine, so a refuser can hold them (see refuser.ts). */
  get #portsAreLocal(): boolean {
    return this.backend === 'embedded' || this.networking === 'host' || this.#backend.shared?.localPorts === true;
  }

  /** Disables the proxy (new connections refused, open ones closed); a refuser counts attempts. */
  async #refuse(p: NetProxy): Promise<PartitionPart> {
    const before = await readProxyMetrics(this.apiUrl);
    await p.client.update({ enabled: false, listen: p.listen, upstream: p.serverUpstream });
    const refuser = this.#portsAreLocal ? await Refuser.hold(p.host, p.port) : undefined;
    const why = this.#portsAreLocal
      ? 'another process holds the proxy port'
      : `the proxy port is not on this machine (${this.backend}${this.networking ? `, ${this.networking} networking` : ''})`;
    const undo = async (): Promise<void> => {
      await refuser?.close();
      await p.client.update({ enabled: true, listen: p.listen, upstream: p.serverUpstream });
    };
    const heal = async (): Promise<PartitionMeasure> => {
      // Read before re-enabling: until then, the only connections that end are those it closed.
      const after = before ? await readProxyMetrics(this.apiUrl) : undefined;
      const flow = before && after ? bytesBetween(before, after, p.serverName) : undefined;
      const dropped = flow ? flow.upstream + flow.downstream : undefined;
      const attempts = refuser?.attempts;
      await undo();
      return attempts === undefined ? { counter: 'none', why, dropped } : { counter: 'refuser', attempts, dropped };
    };
    return { proxy: p, undo, heal };
  }

  /** Timeout toxics (timeout 0) both ways: connections accepted, every byte swallowed. */
  async #blackhole(p: NetProxy): Promise<PartitionPart> {
    const before = await readProxyMetrics(this.apiUrl);
    const added: Array<ClientToxic<unknown>> = [];
    const undo = () =>
      settleAll(
        added.map(
          (t) => () =>
            t.remove().catch((error: unknown) => {
              if (!isNotFound(error)) throw error;
            }),
        ),
      );
    try {
      for (const stream of ['upstream', 'downstream'] as const) {
        const attributes = { timeout: 0 };
        added.push(
          await p.client.addToxic({ name: PARTITION_TOXICS[stream], type: 'timeout', stream, toxicity: 1, attributes }),
        );
      }
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }
    const heal = async (): Promise<PartitionMeasure> => {
      await undo(); // removing the timeout toxics closes what they held: real Toxiproxy counts it then
      return measureBlackhole(before, await readProxyMetrics(this.apiUrl), p.serverName);
    };
    return { proxy: p, undo, heal };
  }

  /** Heals every open partition of this environment. */
  async heal(): Promise<void> {
    await settleAll([...this.#faults].filter((f): f is Partition => f instanceof Partition).map((p) => () => p.heal()));
  }

  /** Removes every toxic and heals every partition of this environment, recording evidence. For afterEach. */
  async resetToxics(): Promise<void> {
    await settleAll([...this.#faults].map((f) => () => (f instanceof Toxic ? f.remove() : f.heal())));
  }

  /** A scope whose toxics and partitions are removed on `close()` / `await using`. */
  scope(): NetworkScope {
    return new Scope(this);
  }

  /** @internal */
  _forget(fault: Fault): void {
    this.#faults.delete(fault);
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
          await this.#deleteOwnProxies();
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
