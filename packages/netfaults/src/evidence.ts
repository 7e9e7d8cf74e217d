// What toxics and partitions record (issue 22): evidence of what they acted on, with numbers
// the server counted, never of merely being configured. A fault that acted on nothing records
// the shared "did not act" entry (`acted: false`, @faultline/evidence): it covers nothing and
// names itself and why in the gate's vacuous reason. Where the backend cannot tell, it says so.
import type { EvidenceValue, FaultEvidenceInput } from '@faultline/evidence';
import type { ProxyBytes, ToxicCounts } from './metrics.ts';

export const SOURCE = '@faultline/netfaults';

type Stream = 'upstream' | 'downstream';

/**
 * How a toxic's effect was measured: `toxic` = the server's per-toxic counters (bytes in the
 * toxic's stream, counted as they reached it); `proxy` = Toxiproxy's per-proxy counters (added
 * when connections close, both directions: cannot tell per toxic); `none` = no /metrics.
 */
export type ToxicMeasure =
  | { counter: 'toxic'; counts: ToxicCounts }
  | { counter: 'proxy'; flow: ProxyBytes }
  | { counter: 'none' };

export interface ToxicFacts {
  proxy: string;
  name: string;
  type: string;
  stream: Stream;
  toxicity: number;
  attributes: Record<string, number>;
  activeMs: number;
  backend: string;
}

export interface ToxicOutcome {
  evidence: FaultEvidenceInput;
  bytes: { upstream: number; downstream: number; total: number } | undefined;
  connections: number | undefined;
  /** undefined when the backend cannot tell. */
  acted: boolean | undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function toxicHead(f: ToxicFacts): string {
  const attrs = Object.entries(f.attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const toxicity = f.toxicity === 1 ? '' : ` toxicity=${f.toxicity}`;
  return `${f.type} ${f.stream}${attrs ? ` ${attrs}` : ''}${toxicity} active ${f.activeMs} ms`;
}

function measured(f: ToxicFacts, m: ToxicMeasure): Omit<ToxicOutcome, 'evidence'> & { what: string } {
  if (m.counter === 'toxic') {
    const { bytes, connections } = m.counts;
    const flow = { upstream: f.stream === 'upstream' ? bytes : 0, downstream: f.stream === 'downstream' ? bytes : 0 };
    const spared = f.toxicity < 1 ? `; toxicity ${f.toxicity} may have spared the connections` : '';
    // Bytes it delayed, throttled, dropped, split or cut; 0 bytes on a connection: a close it
    // caused or delayed (timeout, slow_close, reset_peer on end of stream).
    const what =
      bytes > 0
        ? `, acted on ${plural(bytes, 'byte')} ${f.stream} of ${plural(connections, 'connection')}`
        : connections > 0
          ? `, acted on ${plural(connections, 'connection')} ${f.stream} (a close it caused or delayed, no bytes)`
          : `: did not act on any byte or connection in its stream (${f.stream})${spared}`;
    return { bytes: { ...flow, total: bytes }, connections, acted: bytes > 0 || connections > 0, what };
  }
  if (m.counter === 'proxy') {
    const total = m.flow.upstream + m.flow.downstream;
    const how = 'per proxy, counted when connections close: the server cannot tell per toxic';
    const what =
      total > 0
        ? `, ${plural(total, 'byte')} through the proxy (${how})`
        : `: did not act as far as the server can tell: no bytes through the proxy (${how}; a connection still open is not seen)`;
    return { bytes: { ...m.flow, total }, connections: undefined, acted: total > 0, what };
  }
  const what =
    ', bytes not measured (the server has no /metrics: start it with -proxy-metrics): cannot tell whether it acted';
  return { bytes: undefined, connections: undefined, acted: undefined, what };
}

/** The evidence a removed toxic records. */
export function toxicEvidence(f: ToxicFacts, m: ToxicMeasure): ToxicOutcome {
  const { what, ...outcome } = measured(f, m);
  const attributes: Record<string, EvidenceValue> = {
    ...f.attributes,
    toxicType: f.type,
    stream: f.stream,
    toxicity: f.toxicity,
    activeMs: f.activeMs,
    backend: f.backend,
    counter: m.counter,
  };
  if (outcome.acted === undefined) attributes.acted = 'unknown';
  if (outcome.bytes) {
    attributes.bytes = outcome.bytes.total;
    attributes.bytesUpstream = outcome.bytes.upstream;
    attributes.bytesDownstream = outcome.bytes.downstream;
  }
  if (outcome.connections !== undefined) attributes.connections = outcome.connections;
  const evidence: FaultEvidenceInput = {
    kind: 'toxic',
    name: `${f.proxy}/${f.name}`,
    detail: `${toxicHead(f)}${what}`,
    source: SOURCE,
    attributes,
    ...(outcome.acted === false ? { acted: false as const } : {}),
  };
  return { ...outcome, evidence };
}

export interface PartitionFacts {
  proxy: string;
  address: string;
  upstream: string;
  mode: 'refuse' | 'blackhole';
  durationMs: number;
  backend: string;
}

/**
 * How a partition's effect was measured: refused attempts counted by a refuser on the port;
 * black-holed connections and bytes from the partition's timeout toxics' counters (per toxic,
 * or per proxy at connection close on real Toxiproxy); `none` = the backend cannot tell.
 */
export type PartitionMeasure =
  | { counter: 'refuser'; attempts: number; dropped: number | undefined }
  | { counter: 'toxic'; connections: number; bytes: number }
  | { counter: 'proxy'; bytes: number }
  | { counter: 'none'; why: string; dropped?: number | undefined };

/**
 * A refuse partition acts on the attempts it refused and on the open connections it closed
 * (`dropped`: the bytes those had carried, from the per-proxy counters, which add a
 * connection's bytes when it ends — and during the partition only the ones it closed end).
 */
function refuseWhat(
  attempts: number | undefined,
  dropped: number | undefined,
  ms: number,
  why: string,
): { what: string; acted: boolean | undefined } {
  const did = [
    dropped ? `closed open connections that had carried ${plural(dropped, 'byte')}` : '',
    attempts ? `refused ${plural(attempts, 'connection attempt')}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const uncounted = `attempts not counted (${why})`;
  if (did) return { what: ` ${did} in ${ms} ms${attempts === undefined ? `; ${uncounted}` : ''}`, acted: true };
  if (attempts === undefined)
    return { what: ` lasted ${ms} ms; ${uncounted}: cannot tell whether it acted`, acted: undefined };
  return { what: ` lasted ${ms} ms: did not act: no connection attempt and no open connection`, acted: false };
}

function partitionWhat(m: PartitionMeasure, ms: number): { what: string; acted: boolean | undefined } {
  if (m.counter === 'refuser') return refuseWhat(m.attempts, m.dropped, ms, '');
  if (m.counter === 'none') return refuseWhat(undefined, m.dropped, ms, m.why);
  if (m.counter === 'toxic') {
    return m.bytes > 0
      ? {
          what: ` black-holed ${plural(m.connections, 'connection')} (${m.bytes} bytes swallowed) in ${ms} ms`,
          acted: true,
        }
      : { what: ` lasted ${ms} ms: did not act: no connection attempt sent a byte into it`, acted: false };
  }
  if (m.counter === 'proxy') {
    const how = 'per proxy, counted when connections close: the server cannot tell connections';
    return m.bytes > 0
      ? { what: ` black-holed ${m.bytes} bytes in ${ms} ms (${how})`, acted: true }
      : { what: ` lasted ${ms} ms: did not act: no connection attempt sent a byte into it (${how})`, acted: false };
  }
  return { what: '', acted: undefined }; // unreachable: every counter is handled above
}

/** The evidence a healed partition records for one proxy. */
export function partitionEvidence(f: PartitionFacts, m: PartitionMeasure): FaultEvidenceInput {
  const { what, acted } = partitionWhat(m, f.durationMs);
  const attributes: Record<string, EvidenceValue> = {
    mode: f.mode,
    durationMs: f.durationMs,
    upstream: f.upstream,
    backend: f.backend,
    counter: m.counter,
  };
  if (acted === undefined) attributes.acted = 'unknown';
  if (m.counter === 'refuser') attributes.attempts = m.attempts;
  if ((m.counter === 'refuser' || m.counter === 'none') && m.dropped !== undefined) attributes.bytesDropped = m.dropped;
  if (m.counter === 'toxic') attributes.connections = m.connections;
  if (m.counter === 'toxic' || m.counter === 'proxy') attributes.bytesSwallowed = m.bytes;
  return {
    kind: 'partition',
    name: f.proxy,
    detail: `${f.mode} partition of ${f.proxy} (${f.address} -> ${f.upstream})${what}`,
    source: SOURCE,
    attributes,
    ...(acted === false ? { acted: false as const } : {}),
  };
}
