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

/** One configured toxic of a proxy (Toxiproxy's `ToxicWrapper`), shared by all its links. */
export class ToxicWrapper {
  readonly name: string;
  readonly type: ToxicType<Attributes, unknown>;
  /** Echoed as sent (`"UPSTREAM"` stays upper case). */
  readonly stream: string;
  readonly direction: Direction;
  toxicity: number;
  attributes: Attributes;

  constructor(
    name: string,
    type: ToxicType<Attributes, unknown>,
    stream: string,
    direction: Direction,
    toxicity: number,
    attributes: Attributes,
  ) {
    this.name = name;
    this.type = type;
    this.stream = stream;
    this.direction = direction;
    this.toxicity = toxicity;
    this.attributes = attributes;
  }

  toJSON(): ToxicJson {
    const attributes: Attributes = {};
    for (const key of Object.keys(this.type.defaults)) attributes[key] = this.attributes[key] ?? 0;
    return { attributes, name: this.name, type: this.type.type, stream: this.stream, toxicity: this.toxicity };
  }
}
