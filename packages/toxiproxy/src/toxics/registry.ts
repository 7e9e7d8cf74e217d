import { bandwidth } from './bandwidth.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { noop } from './noop.ts';
import { resetPeer } from './reset-peer.ts';
import { slicer } from './slicer.ts';
import { slowClose } from './slow-close.ts';
import { timeout } from './timeout.ts';
import type { Attributes, ToxicType } from './toxic.ts';

/** The toxic types the server knows, by API `type` (Toxiproxy's `ToxicRegistry`). */
export const toxicTypes: ReadonlyMap<string, ToxicType<Attributes, unknown>> = new Map(
  [noop, latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData].map(
    (type) => [type.type, type as ToxicType<Attributes, unknown>] as const,
  ),
);
