// The server's `/metrics` (Prometheus text format), read before a toxic is added and after it is
// removed so its evidence can say what it acted on. Two sources, best first:
// - `faultline_toxic_*_total` (@faultline/toxiproxy, embedded or in our image): per toxic, the
//   bytes and connections that reached it while it acted, counted as they flow;
// - `toxiproxy_proxy_received_bytes_total` (real Toxiproxy 2.12 with -proxy-metrics): per proxy
//   and direction, added when a link ends, so it cannot tell per toxic nor see open connections.

/** Bytes received per direction (`upstream` = client → server, `downstream` = server → client). */
export interface ProxyBytes {
  upstream: number;
  downstream: number;
}

/** What one toxic acted on: bytes that reached it and the connections they came on. */
export interface ToxicCounts {
  bytes: number;
  connections: number;
}

export interface MetricsSnapshot {
  proxies: ReadonlyMap<string, ProxyBytes>;
  /** By `proxy\0toxic`; undefined when the server has no per-toxic counters (real Toxiproxy). */
  toxics: ReadonlyMap<string, ToxicCounts> | undefined;
}

const RECEIVED = 'toxiproxy_proxy_received_bytes_total';
const TOXIC_BYTES = 'faultline_toxic_bytes_total';
const TOXIC_CONNECTIONS = 'faultline_toxic_connections_total';

/** One sample line `name{labels} value`, or undefined for comments and other families. */
function sample(line: string, name: string): { labels: Record<string, string>; value: number } | undefined {
  if (!line.startsWith(`${name}{`)) return undefined;
  const close = line.lastIndexOf('}');
  if (close < 0) return undefined;
  const value = Number(
    line
      .slice(close + 1)
      .trim()
      .split(/\s+/)[0],
  );
  return Number.isFinite(value) ? { labels: parseLabels(line.slice(name.length + 1, close)), value } : undefined;
}

function toxicKey(proxy: string, toxic: string): string {
  return `${proxy}\u0000${toxic}`;
}

/** Sums the per-toxic counters by proxy and toxic; undefined when the family is absent. */
export function parseToxicCounters(text: string): Map<string, ToxicCounts> | undefined {
  if (!text.includes(`# TYPE ${TOXIC_BYTES} counter`)) return undefined;
  const out = new Map<string, ToxicCounts>();
  for (const line of text.split('\n')) {
    const bytes = sample(line, TOXIC_BYTES);
    const connections = bytes ? undefined : sample(line, TOXIC_CONNECTIONS);
    const found = bytes ?? connections;
    const { proxy, toxic } = found?.labels ?? {};
    if (!found || proxy === undefined || toxic === undefined) continue;
    const entry = out.get(toxicKey(proxy, toxic)) ?? { bytes: 0, connections: 0 };
    if (bytes) entry.bytes += found.value;
    else entry.connections += found.value;
    out.set(toxicKey(proxy, toxic), entry);
  }
  return out;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
  }
  return labels;
}

/** Sums `toxiproxy_proxy_received_bytes_total` per proxy and direction. */
export function parseProxyMetrics(text: string): Map<string, ProxyBytes> {
  const out = new Map<string, ProxyBytes>();
  for (const line of text.split('\n')) {
    const found = sample(line, RECEIVED);
    if (!found) continue;
    const { labels, value } = found;
    const proxy = labels.proxy;
    const direction = labels.direction;
    if (proxy === undefined) continue;
    const entry = out.get(proxy) ?? { upstream: 0, downstream: 0 };
    if (direction === 'upstream') entry.upstream += value;
    else if (direction === 'downstream') entry.downstream += value;
    out.set(proxy, entry);
  }
  return out;
}

/** Reads `/metrics`; undefined when the server does not serve them (started without `-proxy-metrics`). */
export async function readProxyMetrics(apiUrl: string, timeoutMs = 2000): Promise<MetricsSnapshot | undefined> {
  try {
    const res = await fetch(`${apiUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const text = await res.text();
    return { proxies: parseProxyMetrics(text), toxics: parseToxicCounters(text) };
  } catch {
    return undefined;
  }
}

/** Bytes that flowed through `proxy` between two snapshots. */
export function bytesBetween(before: MetricsSnapshot, after: MetricsSnapshot, proxy: string): ProxyBytes {
  const a = before.proxies.get(proxy) ?? { upstream: 0, downstream: 0 };
  const b = after.proxies.get(proxy) ?? { upstream: 0, downstream: 0 };
  return { upstream: Math.max(0, b.upstream - a.upstream), downstream: Math.max(0, b.downstream - a.downstream) };
}

/** What `toxic` on `proxy` acted on between two snapshots; undefined without per-toxic counters. */
export function toxicBetween(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  proxy: string,
  toxic: string,
): ToxicCounts | undefined {
  if (!after.toxics) return undefined;
  const a = before.toxics?.get(toxicKey(proxy, toxic)) ?? { bytes: 0, connections: 0 };
  const b = after.toxics.get(toxicKey(proxy, toxic)) ?? { bytes: 0, connections: 0 };
  return { bytes: Math.max(0, b.bytes - a.bytes), connections: Math.max(0, b.connections - a.connections) };
}
