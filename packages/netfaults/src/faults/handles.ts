// What a test holds for the faults it applied: the typed toxic spec, and the handles of toxics
// and partitions (public: exported from index.ts, described in the README).
import type { Toxic as ClientToxic } from 'toxiproxy-node-client';
import type { ToxicMeasure } from '../evidence.ts';
import type { NetProxy } from '../proxies.ts';

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
