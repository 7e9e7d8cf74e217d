import type { Connection } from './connection.ts';
import type { TcpProxy } from './proxy.ts';

const COUNTERS = [
  ['toxiproxy_proxy_received_bytes_total', 'The total bytes received from a source of a link'],
  ['toxiproxy_proxy_sent_bytes_total', 'The total bytes sent to a destination of a link'],
] as const;

/**
 * The `-proxy-metrics` counters, in Prometheus text format. Like Toxiproxy, a link's bytes
 * are added when the link ends.
 */
export class Metrics {
  readonly #received = new Map<string, number>();
  readonly #sent = new Map<string, number>();

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
    return `${lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
