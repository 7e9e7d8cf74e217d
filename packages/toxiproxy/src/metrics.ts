import type { Connection } from './connection.ts';
import type { TcpProxy } from './proxy.ts';
import type { Direction, ToxicCounter } from './toxic-wrapper.ts';

const COUNTERS = [
  ['toxiproxy_proxy_received_bytes_total', 'The total bytes received from a source of a link'],
  ['toxiproxy_proxy_sent_bytes_total', 'The total bytes sent to a destination of a link'],
] as const;

/**
 * Our extension (not in Toxiproxy, which counts per proxy and only when a link ends): what each
 * toxic acted on, counted as it acts (see `ToxicStub.acted`). A separate `faultline_` family so Prometheus
 * scrapers of the real metrics see nothing changed.
 */
const TOXIC_COUNTERS = [
  ['faultline_toxic_bytes_total', 'Bytes a toxic acted on: delayed, throttled, dropped, split or cut', 'bytes'],
  ['faultline_toxic_connections_total', 'Links (connection and direction) a toxic acted on', 'connections'],
] as const;

/**
 * The `-proxy-metrics` counters, in Prometheus text format. Like Toxiproxy, a link's bytes
 * are added when the link ends.
 */
export class Metrics {
  readonly #received = new Map<string, number>();
  readonly #sent = new Map<string, number>();
  /** Cumulative per label set: a toxic re-added under the same name adds on, as a counter must. */
  readonly #toxics = new Map<string, ToxicCounter>();

  /** The counter a new toxic bumps; the same object for the same proxy, toxic, type and direction. */
  toxicCounter(proxy: string, toxic: string, type: string, direction: Direction): ToxicCounter {
    const labels = `direction="${direction}",proxy="${escapeLabel(proxy)}",toxic="${escapeLabel(toxic)}",type="${escapeLabel(type)}"`;
    let counter = this.#toxics.get(labels);
    if (!counter) {
      counter = { bytes: 0, connections: 0 };
      this.#toxics.set(labels, counter);
    }
    return counter;
  }

  record(proxy: TcpProxy, connection: Connection): void {
    for (const link of [connection.up, connection.down]) {
      const labels = `direction="${link.direction}",listener="${escapeLabel(proxy.listen)}",proxy="${escapeLabel(proxy.name)}",upstream="${escapeLabel(proxy.upstream)}"`;
      this.#received.set(labels, (this.#received.get(labels) ?? 0) + link.received);
      this.#sent.set(labels, (this.#sent.get(labels) ?? 0) + link.sent);
    }
  }

  render(): string {
    const lines: string[] = [];
    for (const [[name, help], values] of [
      [COUNTERS[0], this.#received],
      [COUNTERS[1], this.#sent],
    ] as const) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of [...values].sort()) lines.push(`${name}{${labels}} ${value}`);
    }
    const toxics = [...this.#toxics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, help, field] of TOXIC_COUNTERS) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, counter] of toxics) lines.push(`${name}{${labels}} ${counter[field]}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
