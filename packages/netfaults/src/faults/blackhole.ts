// A `blackhole` partition of one proxy: timeout toxics (timeout 0) on both streams, so
// connections are accepted and every byte is swallowed; measured by those toxics' counters.
import type { Toxic as ClientToxic } from 'toxiproxy-node-client';
import type { PartitionMeasure } from '../evidence.ts';
import { bytesBetween, type MetricsSnapshot, readProxyMetrics, toxicBetween } from '../metrics.ts';
import type { NetProxy } from '../proxies.ts';
import { isNotFound, settleAll } from '../settle.ts';
import type { FaultContext, PartitionPart } from './fault.ts';

const PARTITION_TOXICS = { upstream: 'faultline_partition_upstream', downstream: 'faultline_partition_downstream' };

export async function blackhole(ctx: FaultContext, p: NetProxy): Promise<PartitionPart> {
  const before = await readProxyMetrics(ctx.apiUrl);
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
    return measureBlackhole(before, await readProxyMetrics(ctx.apiUrl), p.serverName);
  };
  return { proxy: p, toxicNames: Object.values(PARTITION_TOXICS), undo, heal };
}

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
