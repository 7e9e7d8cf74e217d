import { asObject, field, float32Field, intField, type JsonObject, stringField } from './decode.ts';
import { ApiError, invalidStream, invalidToxicType, toxicAlreadyExists, toxicNotFound } from './errors.ts';
import type { Link } from './link.ts';
import { type Direction, parseDirection, type ToxicCounter, ToxicWrapper } from './toxic-wrapper.ts';
import { toxicTypes } from './toxics/registry.ts';
import type { Attributes, ToxicType } from './toxics/toxic.ts';

const OWNER = 'ToxicWrapper';

/** Hands out the counter for a new toxic (the /metrics series when metrics are on). */
export type CounterSource = (toxic: string, type: string, direction: Direction) => ToxicCounter | undefined;

/**
 * The toxics of one proxy (Toxiproxy's `ToxicCollection`): a chain per direction, applied
 * to every live link of that direction and to every link created later.
 */
export class ToxicCollection {
  readonly #chains: Record<Direction, ToxicWrapper[]> = { upstream: [], downstream: [] };
  readonly #links = new Set<Link>();
  readonly #counterFor: CounterSource | undefined;

  constructor(counterFor?: CounterSource) {
    this.#counterFor = counterFor;
  }

  /** Upstream toxics then downstream toxics, each in insertion order. */
  list(): ToxicWrapper[] {
    return [...this.#chains.upstream, ...this.#chains.downstream];
  }

  chain(direction: Direction): readonly ToxicWrapper[] {
    return [...this.#chains[direction]];
  }

  get(name: string): ToxicWrapper {
    const wrapper = this.#find(name);
    if (!wrapper) throw toxicNotFound();
    return wrapper;
  }

  resetsOnClose(): boolean {
    return this.list().some((wrapper) => wrapper.type.resetsOnClose === true);
  }

  addLink(link: Link): void {
    this.#links.add(link);
  }

  removeLink(link: Link): void {
    this.#links.delete(link);
  }

  /** POST /proxies/{p}/toxics, checks in the real server's order. */
  async add(body: unknown): Promise<ToxicWrapper> {
    const input = asObject(body, 'toxics.ToxicWrapper');
    const stream = stringField(input, 'stream', OWNER) ?? 'downstream';
    const toxicity = float32Field(input, 'toxicity', OWNER) ?? 1;
    const typeName = stringField(input, 'type', OWNER) ?? '';
    const attributesValue = field(input, 'attributes');
    if (attributesValue !== undefined && attributesValue !== null) asObject(attributesValue, 'toxics.NoopToxic');
    const direction = parseDirection(stream);
    if (!direction) throw invalidStream();
    const name = stringField(input, 'name', OWNER) || `${typeName}_${stream}`;
    const type = toxicTypes.get(typeName);
    if (!type) throw invalidToxicType();
    if (this.#find(name)) throw toxicAlreadyExists();
    const attributes = decodeAttributes(type, attributesValue, { ...type.defaults });
    const counter = this.#counterFor?.(name, type.type, direction) ?? { bytes: 0, connections: 0 };
    const wrapper = new ToxicWrapper(name, type, stream, direction, toxicity, attributes, counter);
    this.#chains[direction].push(wrapper);
    await Promise.all(this.#linksOf(direction).map((link) => link.addToxic(wrapper)));
    return wrapper;
  }

  /** POST/PATCH /proxies/{p}/toxics/{t}: `attributes` and `toxicity` decoded onto the current values. */
  async update(name: string, body: unknown): Promise<ToxicWrapper> {
    const wrapper = this.get(name);
    const input = asObject(body, 'struct { Attributes interface {}; Toxicity float32 }');
    const toxicity = float32Field(input, 'toxicity', 'Toxicity') ?? wrapper.toxicity;
    const attributesValue = field(input, 'attributes');
    const attributes = decodeAttributes(wrapper.type, attributesValue, { ...wrapper.attributes });
    wrapper.toxicity = toxicity;
    wrapper.attributes = attributes;
    await Promise.all(this.#linksOf(wrapper.direction).map((link) => link.updateToxic(wrapper)));
    return wrapper;
  }

  async remove(name: string): Promise<void> {
    const wrapper = this.get(name);
    const chain = this.#chains[wrapper.direction];
    chain.splice(chain.indexOf(wrapper), 1);
    await Promise.all(this.#linksOf(wrapper.direction).map((link) => link.removeToxic(wrapper)));
  }

  /** Removes every toxic, front to back, as /reset does. */
  async reset(): Promise<void> {
    for (const wrapper of this.list()) await this.remove(wrapper.name);
  }

  #find(name: string): ToxicWrapper | undefined {
    return this.list().find((wrapper) => wrapper.name === name);
  }

  #linksOf(direction: Direction): Link[] {
    return [...this.#links].filter((link) => link.direction === direction);
  }
}

/** Decodes `value` onto `current` with Go's int rules, then applies our crash guards. */
function decodeAttributes(type: ToxicType<Attributes, unknown>, value: unknown, current: Attributes): Attributes {
  if (value !== undefined && value !== null) {
    const input: JsonObject = asObject(value, `toxics.${type.goName}`);
    for (const [key, kind] of Object.entries(type.kinds)) {
      // Go names the innermost struct and the whole field path: `LatencyToxic.attributes.latency`.
      const decoded = intField(input, key, `${type.goName}.attributes`, kind);
      if (decoded !== undefined) current[key] = decoded;
    }
  }
  const problem = type.validate?.(current);
  // Deviation (documented): the real server accepts these and then crashes or hangs.
  if (problem) throw new ApiError(`invalid ${type.type} toxic: ${problem}`, 400);
  return current;
}
