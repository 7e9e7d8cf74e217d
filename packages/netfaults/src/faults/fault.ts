// What every fault the environment applies has in common (as each of Toxiproxy's toxics
// implements one interface): it can be undone, which records its evidence, and it may keep
// toxics on proxies. Each kind lives in its own file: toxic.ts, partition.ts (refuse.ts,
// blackhole.ts for its two modes).
import type { BackendName, ContainerNetworking } from '../backend.ts';
import type { PartitionMeasure } from '../evidence.ts';
import type { NetProxy } from '../proxies.ts';

export interface Fault {
  readonly kind: 'toxic' | 'partition';
  /** Reverts the fault and records its evidence; idempotent (the handle's `remove()` / `heal()`). */
  undo(): Promise<unknown>;
  /** Names of the toxics it keeps on `proxy`, so that a new toxic's default name does not collide. */
  toxicNames(proxy: NetProxy): readonly string[];
}

/** What applying, measuring and undoing a fault needs from its environment. */
export interface FaultContext {
  /** Base URL of the Toxiproxy HTTP API (its /metrics measures what a fault acted on). */
  readonly apiUrl: string;
  readonly backend: BackendName;
  readonly networking: ContainerNetworking | undefined;
  /** Whether proxy ports are on this machine, so a refuser can hold them (see refuser.ts). */
  readonly portsAreLocal: boolean;
  /** The environment's open faults: a fault is added when applied and forgets itself when undone. */
  readonly faults: OpenFaults;
}

/** The environment's open faults, as a fault sees them (registry.ts). */
export interface OpenFaults {
  add(fault: Fault): void;
  forget(fault: Fault): void;
  /** The names of the toxics open faults keep on `proxy`. */
  toxicNamesOn(proxy: NetProxy): ReadonlySet<string>;
}

/**
 * One proxy of a partition, as its mode applied it (refuse.ts, blackhole.ts): `undo` reverts it
 * (when applying the partition failed); `heal` reverts it and measures what it acted on, in the
 * order its counters need.
 */
export interface PartitionPart {
  proxy: NetProxy;
  /** Toxics it keeps on the proxy while applied. */
  toxicNames: readonly string[];
  undo: () => Promise<void>;
  heal: () => Promise<PartitionMeasure>;
}
