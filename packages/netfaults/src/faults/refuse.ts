// A `refuse` partition of one proxy: the proxy is disabled (new connections refused, open ones
// closed); where its port is on this machine a refuser holds it and counts the attempts.
import type { PartitionMeasure } from '../evidence.ts';
import { bytesBetween, readProxyMetrics } from '../metrics.ts';
import type { NetProxy } from '../proxies.ts';
import { Refuser } from '../refuser.ts';
import type { FaultContext, PartitionPart } from './fault.ts';

export async function refuse(ctx: FaultContext, p: NetProxy): Promise<PartitionPart> {
  const before = await readProxyMetrics(ctx.apiUrl);
  await p.client.update({ enabled: false, listen: p.listen, upstream: p.serverUpstream });
  const refuser = ctx.portsAreLocal ? await Refuser.hold(p.host, p.port) : undefined;
  const why = ctx.portsAreLocal
    ? 'another process holds the proxy port'
    : `the proxy port is not on this machine (${ctx.backend}${ctx.networking ? `, ${ctx.networking} networking` : ''})`;
  const undo = async (): Promise<void> => {
    await refuser?.close();
    await p.client.update({ enabled: true, listen: p.listen, upstream: p.serverUpstream });
  };
  const heal = async (): Promise<PartitionMeasure> => {
    // Read before re-enabling: until then, the only connections that end are those it closed.
    const after = before ? await readProxyMetrics(ctx.apiUrl) : undefined;
    const flow = before && after ? bytesBetween(before, after, p.serverName) : undefined;
    const dropped = flow ? flow.upstream + flow.downstream : undefined;
    const attempts = refuser?.attempts;
    await undo();
    return attempts === undefined ? { counter: 'none', why, dropped } : { counter: 'refuser', attempts, dropped };
  };
  return { proxy: p, toxicNames: [], undo, heal };
}
