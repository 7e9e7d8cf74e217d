import type { Attributes, ToxicType } from './toxics/toxic.ts';

export type Direction = 'upstream' | 'downstream';

/** Case-insensitive, like Toxiproxy's `stream.ParseDirection`; anything else is invalid. */
export function parseDirection(stream: string): Direction | undefined {
  const lower = stream.toLowerCase();
  return lower === 'upstream' || lower === 'downstream' ? lower : undefined;
}

/** JSON shape of a toxic in the API, keys in the real server's order. */
export interface ToxicJson {
  attributes: Attributes;
  name: string;
  type: string;
  stream: string;
  toxicity: number;
}

/**
 * What one toxic really acted on (issue 22): the bytes it delayed, throttled, dropped, split or
 * cut, and the links (connection × direction) it acted on, closes included. A noop standing in
 * for it by the toxicity draw counts nothing. Plain fields bumped without allocating; shared
 * with /metrics.
 */
export interface ToxicCounter {
  bytes: number;
  connections: number;
}

/** One configured toxic of a proxy (Toxiproxy's `ToxicWrapper`), shared by all its links. */
export class ToxicWrapper {
  readonly name: string;
  readonly type: ToxicType<Attributes, unknown>;
  /** Echoed as sent (`"UPSTREAM"` stays upper case). */
  readonly stream: string;
  readonly direction: Direction;
  toxicity: number;
  attributes: Attributes;
  /** Undefined for the hidden noop at the head of every chain, which acts on nothing. */
  readonly counter: ToxicCounter | undefined;

  constructor(
    name: string,
    type: ToxicType<Attributes, unknown>,
    stream: string,
    direction: Direction,
    toxicity: number,
    attributes: Attributes,
    counter?: ToxicCounter,
  ) {
    this.name = name;
    this.type = type;
    this.stream = stream;
    this.direction = direction;
    this.toxicity = toxicity;
    this.attributes = attributes;
    this.counter = counter;
  }

  toJSON(): ToxicJson {
    const attributes: Attributes = {};
    for (const key of Object.keys(this.type.defaults)) attributes[key] = this.attributes[key] ?? 0;
    return { attributes, name: this.name, type: this.type.type, stream: this.stream, toxicity: this.toxicity };
  }
}
