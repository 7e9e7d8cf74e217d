// The one interface every toxic implements, mirroring Toxiproxy's `toxics/toxic.go`:
// a toxic type is a description (attributes, validation) plus a `pipe` that moves chunks
// from its stub's input to its output until the stub is interrupted or the link ends.

/** Whatever one socket read returned, and when it was read (`performance.now()` ms). */
export interface Chunk {
  data: Buffer;
  timestamp: number;
}

/**
 * A toxic's view of one position in one link (one direction of one connection).
 * `pipe` must return promptly once a call reports an interrupt, forwarding any chunk it
 * still holds first: that is how toxics are added, updated and removed on live links
 * without losing bytes.
 */
export interface ToxicStub<S = unknown> {
  /** The next chunk; `null` at end of stream; `undefined` when interrupted (return at once). */
  read(): Promise<Chunk | null | undefined>;
  /** Like `read`, but resolves `false` when nothing arrived within `ms`. */
  readWithin(ms: number): Promise<Chunk | null | undefined | false>;
  /** Forwards a chunk; resolves when the next stage has room (or on interrupt). */
  write(chunk: Chunk): Promise<void>;
  /** Resolves `true` after `ms`, or `false` as soon as the stub is interrupted. */
  sleep(ms: number): Promise<boolean>;
  /**
   * After `read` returned `null`: passes that end of stream on (a client's or server's
   * half-close stays a half-close; a closing connection keeps closing), and drops anything
   * sent to this stage later.
   */
  end(): void;
  /**
   * Closes the connection, both directions, once what this stage already wrote is out (what
   * limit_data, timeout and reset_peer do), and drops anything sent to this stage later.
   */
  close(): void;
  /** After `read` returned `null`: true when that was the source's half-close (FIN), false when the connection is closing. */
  readonly halfClosed: boolean;
  readonly interrupted: boolean;
  /** Per-link state created by `newState`; it survives restarts of the stub (updates). */
  readonly state: S;
  /** A number in [0, 1) from the server's (optionally seeded) generator. */
  random(): number;
  /**
   * Reports that the toxic acted on this link: `bytes` it delayed, throttled, dropped, split or
   * cut (0 for a close it caused or delayed). Feeds the per-toxic counters in /metrics, so a
   * toxic is only ever credited with what it really did; cheap enough to call per chunk.
   */
  acted(bytes: number): void;
}

/** Attribute values are Go integers in Toxiproxy; we keep that contract. */
export type Attributes = Record<string, number>;

/** How Go declares the attribute, which decides the decode error text. */
export type AttributeKind = 'int' | 'int64';

export interface ToxicType<A extends Attributes = Attributes, S = unknown> {
  /** The `type` string in the API. */
  readonly type: string;
  /** The Go struct name, used in `cannot unmarshal` messages so they read like the real server's. */
  readonly goName: string;
  /** Every attribute with its default (always 0 in Toxiproxy); key order is the JSON order. */
  readonly defaults: Readonly<A>;
  readonly kinds: { readonly [K in keyof A]: AttributeKind };
  /** Rejects values that would crash or hang the real server; returns the 400 message. */
  validate?(attributes: Readonly<A>): string | undefined;
  /** Input buffer in chunks (latency: 1024); default 1, like Go's unbuffered channels. */
  readonly bufferSize?: number;
  newState?(): S;
  /** Removing the toxic closes the links it is on (Toxiproxy's `CleanupToxic`, used by timeout). */
  readonly closesOnRemove?: boolean;
  /** Sets SO_LINGER=0 (RST on close) on connections accepted while this toxic exists. */
  readonly resetsOnClose?: boolean;
  pipe(attributes: Readonly<A>, stub: ToxicStub<S>): Promise<void>;
}

/** Identity helper so each toxic module is checked against the interface with its own types. */
export function defineToxic<A extends Attributes, S = undefined>(type: ToxicType<A, S>): ToxicType<A, S> {
  return type;
}
