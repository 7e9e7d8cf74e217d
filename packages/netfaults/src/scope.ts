// A scope: the faults applied through it are undone together, on `close()` or `await using`.
import type { Fault } from './faults/fault.ts';
import type { PartitionHandle, PartitionOptions, ToxicHandle, ToxicSpec } from './faults/handles.ts';
import { undoAll } from './faults/registry.ts';
import type { NetProxy, ProxyRef } from './proxies.ts';

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

/** What applies the faults: the environment's methods of the same names, with their handles as faults. */
export interface FaultApplier {
  toxic(proxy: ProxyRef, spec: ToxicSpec): Promise<ToxicHandle & Fault>;
  partition(proxies: ProxyRef | ReadonlyArray<ProxyRef>, options?: PartitionOptions): Promise<PartitionHandle & Fault>;
}

export class Scope implements NetworkScope {
  readonly #env: FaultApplier;
  readonly #faults = new Set<Fault>();

  constructor(env: FaultApplier) {
    this.#env = env;
  }

  async toxic(proxy: ProxyRef, spec: ToxicSpec): Promise<ToxicHandle> {
    return this.#hold(await this.#env.toxic(proxy, spec));
  }

  async partition(proxies: ProxyRef | ReadonlyArray<ProxyRef>, options?: PartitionOptions): Promise<PartitionHandle> {
    return this.#hold(await this.#env.partition(proxies, options));
  }

  #hold<H extends Fault>(fault: H): H {
    this.#faults.add(fault);
    return fault;
  }

  async close(): Promise<void> {
    const faults = [...this.#faults];
    this.#faults.clear();
    await undoAll(faults);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
