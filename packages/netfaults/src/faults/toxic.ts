// A toxic on one proxy: added through the client, measured between the /metrics snapshots taken
// when it was added and after it was removed, and recorded as `toxic` evidence on removal.
import { recordFault } from '@faultline/evidence';
import type { Toxic as ClientToxic } from 'toxiproxy-node-client';
import { type ToxicMeasure, toxicEvidence } from '../evidence.ts';
import { bytesBetween, type MetricsSnapshot, readProxyMetrics, toxicBetween } from '../metrics.ts';
import type { NetProxy } from '../proxies.ts';
import { describeError, isNotFound } from '../settle.ts';
import type { Fault, FaultContext } from './fault.ts';
import type { ToxicHandle, ToxicReport, ToxicSpec, ToxicStream, ToxicType } from './handles.ts';

interface AppliedToxic {
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
}

/**
 * Adds `spec` to `proxy` and registers it. Nothing is registered (nor recorded) when the API
 * call fails.
 */
export async function applyToxic(ctx: FaultContext, proxy: NetProxy, spec: ToxicSpec): Promise<ToxicHandle & Fault> {
  const stream = spec.stream ?? 'downstream';
  const toxicity = spec.toxicity ?? 1;
  const attributes: Record<string, number> = { ...(spec.attributes ?? {}) };
  const name = spec.name ?? freeName(`${spec.type}_${stream}`, ctx.faults.toxicNamesOn(proxy));
  const before = await readProxyMetrics(ctx.apiUrl);
  const client = await proxy.client.addToxic<Record<string, number>>({
    name,
    type: spec.type,
    stream,
    toxicity,
    attributes,
  });
  const applied = { ...attributes, ...(client.attributes ?? {}) };
  const toxic = new Toxic(ctx, proxy, client, { name, type: spec.type, stream, toxicity, attributes: applied }, before);
  ctx.faults.add(toxic);
  return toxic;
}

/** `base`, else `base_2`, `base_3`… : the first not taken. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return name;
}

class Toxic implements ToxicHandle, Fault {
  readonly kind = 'toxic';
  readonly proxy: NetProxy;
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
  readonly client: ClientToxic<unknown>;
  readonly #ctx: FaultContext;
  readonly #before: MetricsSnapshot | undefined;
  readonly #addedAt = performance.now();
  #removing: Promise<ToxicReport> | undefined;

  constructor(
    ctx: FaultContext,
    proxy: NetProxy,
    client: ClientToxic<unknown>,
    spec: AppliedToxic,
    before: MetricsSnapshot | undefined,
  ) {
    this.#ctx = ctx;
    this.proxy = proxy;
    this.client = client;
    this.name = spec.name;
    this.type = spec.type;
    this.stream = spec.stream;
    this.toxicity = spec.toxicity;
    this.attributes = spec.attributes;
    this.#before = before;
  }

  get removed(): boolean {
    return this.#removing !== undefined;
  }

  toxicNames(proxy: NetProxy): readonly string[] {
    return proxy === this.proxy ? [this.name] : [];
  }

  async update(attributes: Record<string, number>, toxicity = this.toxicity): Promise<void> {
    if (this.#removing) throw new Error(`netfaults: toxic ${this.proxy.name}/${this.name} was already removed`);
    const merged = { ...this.attributes, ...attributes };
    await this.client.update({
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity,
      attributes: merged,
    });
    this.attributes = merged;
    this.toxicity = toxicity;
  }

  remove(): Promise<ToxicReport> {
    this.#removing ??= this.#remove();
    return this.#removing;
  }

  undo(): Promise<ToxicReport> {
    return this.remove();
  }

  async #remove(): Promise<ToxicReport> {
    const activeMs = Math.round(performance.now() - this.#addedAt);
    let failure: unknown;
    try {
      await this.client.remove();
    } catch (error) {
      if (!isNotFound(error)) failure = error; // 404: the proxy (and its toxics) is already gone
    }
    this.#ctx.faults.forget(this);
    const after = this.#before ? await readProxyMetrics(this.#ctx.apiUrl) : undefined;
    const report = this.#record(activeMs, measureToxic(this.#before, after, this.proxy.serverName, this.name));
    if (failure !== undefined) {
      throw new Error(`netfaults: removing toxic ${this.proxy.name}/${this.name} failed: ${describeError(failure)}`, {
        cause: failure,
      });
    }
    return report;
  }

  /** Records the toxic's evidence; returns what it recorded. */
  #record(activeMs: number, measure: ToxicMeasure): ToxicReport {
    const facts = {
      proxy: this.proxy.name,
      name: this.name,
      type: this.type,
      stream: this.stream,
      toxicity: this.toxicity,
      attributes: this.attributes,
      activeMs,
    };
    const { evidence, bytes, connections, acted } = toxicEvidence({ ...facts, backend: this.#ctx.backend }, measure);
    recordFault(evidence);
    const attributes = { ...this.attributes };
    return { ...facts, attributes, bytes, connections, acted, counter: measure.counter, detail: evidence.detail };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }
}

/** What a toxic acted on, from the best counters the server has (see metrics.ts). */
function measureToxic(
  before: MetricsSnapshot | undefined,
  after: MetricsSnapshot | undefined,
  proxy: string,
  toxic: string,
): ToxicMeasure {
  if (!before || !after) return { counter: 'none' };
  const counts = toxicBetween(before, after, proxy, toxic);
  if (counts) return { counter: 'toxic', counts };
  return { counter: 'proxy', flow: bytesBetween(before, after, proxy) };
}
