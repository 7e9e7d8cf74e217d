// Toxiproxy's `-proxy-metrics` counters (Prometheus text format), read before and after a
// toxic so its evidence can say how many bytes flowed while it was active. Both the real
// server and @faultline/toxiproxy add a link's bytes to the counters when the link ends.

/** Bytes received per direction (`upstream` = client → server, `downstream` = server → client). */
export interface ProxyBytes {
  upstream: number;
  downstream: number;
}

export type MetricsSnapshot = ReadonlyMap<string, ProxyBytes>;

const RECEIVED = 'toxiproxy_proxy_received_bytes_total';

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
    if (!line.startsWith(`${RECEIVED}{`)) continue;
    const close = line.lastIndexOf('}');
    if (close < 0) continue;
    const labels = parseLabels(line.slice(RECEIVED.length + 1, close));
    const value = Number(
      line
        .slice(close + 1)
        .trim()
        .split(/\s+/)[0],
    );
    const proxy = labels.proxy;
    const direction = labels.direction;
    if (proxy === undefined || !Number.isFinite(value)) continue;
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
    return parseProxyMetrics(await res.text());
  } catch {
    return undefined;
  }
}

/** Bytes that flowed through `proxy` between two snapshots. */
export function bytesBetween(before: MetricsSnapshot, after: MetricsSnapshot, proxy: string): ProxyBytes {
  const a = before.get(proxy) ?? { upstream: 0, downstream: 0 };
  const b = after.get(proxy) ?? { upstream: 0, downstream: 0 };
  return { upstream: Math.max(0, b.upstream - a.upstream), downstream: Math.max(0, b.downstream - a.downstream) };
}
