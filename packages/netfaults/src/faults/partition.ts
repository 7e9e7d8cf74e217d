// A partition of one or more proxies: each cut off its upstream by one part per proxy, in the
// partition's mode (refuse.ts, blackhole.ts), until healed; healing records one `partition`
// evidence entry per proxy.
import { recordFault } from '@faultline/evidence';
import { type PartitionMeasure, partitionEvidence } from '../evidence.ts';
import type { NetProxy } from '../proxies.ts';
import { settleAll } from '../settle.ts';
import { blackhole } from './blackhole.ts';
import type { Fault, FaultContext, PartitionPart } from './fault.ts';
import type { PartitionHandle, PartitionMode } from './handles.ts';
import { refuse } from './refuse.ts';

const MODES: Record<PartitionMode, (ctx: FaultContext, proxy: NetProxy) => Promise<PartitionPart>> = {
  refuse,
  blackhole,
};

/** Cuts every proxy off in `mode` and registers the partition; on failure undoes what was applied. */
export async function applyPartition(
  ctx: FaultContext,
  proxies: readonly NetProxy[],
  mode: PartitionMode,
): Promise<PartitionHandle & Fault> {
  const parts: PartitionPart[] = [];
  try {
    for (const p of proxies) parts.push(await MODES[mode](ctx, p));
  } catch (error) {
    // Nothing is recorded for a partition that was not applied; undo what was.
    await settleAll(parts.map((part) => part.undo)).catch(() => undefined);
    throw error;
  }
  const partition = new Partition(ctx, parts, mode);
  ctx.faults.add(partition);
  return partition;
}

class Partition implements PartitionHandle, Fault {
  readonly kind = 'partition';
  readonly proxies: readonly NetProxy[];
  readonly mode: PartitionMode;
  readonly #ctx: FaultContext;
  readonly #startedAt = performance.now();
  readonly #parts: PartitionPart[];
  #healing: Promise<void> | undefined;

  constructor(ctx: FaultContext, parts: PartitionPart[], mode: PartitionMode) {
    this.#ctx = ctx;
    this.proxies = parts.map((part) => part.proxy);
    this.mode = mode;
    this.#parts = parts;
  }

  get healed(): boolean {
    return this.#healing !== undefined;
  }

  toxicNames(proxy: NetProxy): readonly string[] {
    return this.#parts.filter((part) => part.proxy === proxy).flatMap((part) => part.toxicNames);
  }

  heal(): Promise<void> {
    this.#healing ??= this.#heal();
    return this.#healing;
  }

  undo(): Promise<void> {
    return this.heal();
  }

  async #heal(): Promise<void> {
    const durationMs = Math.round(performance.now() - this.#startedAt);
    this.#ctx.faults.forget(this);
    const measures = new Map<PartitionPart, PartitionMeasure>();
    try {
      await settleAll(this.#parts.map((part) => async () => void measures.set(part, await part.heal())));
    } finally {
      for (const part of this.#parts) {
        const measure = measures.get(part) ?? { counter: 'none', why: 'healing it failed' };
        this.#record(part.proxy, durationMs, measure);
      }
    }
  }

  #record(p: NetProxy, durationMs: number, measure: PartitionMeasure): void {
    const facts = { proxy: p.name, address: p.address, upstream: p.upstream, mode: this.mode, durationMs };
    recordFault(partitionEvidence({ ...facts, backend: this.#ctx.backend }, measure));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.heal();
  }
}
