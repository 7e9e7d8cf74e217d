// Deterministic media content: the same name always gives the same bytes, so a test can write a
// file and later check what a read returned without keeping a copy.
import { createHash } from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Pseudo-random bytes for `name` (xorshift32 seeded from the name's hash), produced piece by piece
 * so that a 64 MiB file never sits in memory. `pieceSize` must be a multiple of 4.
 */
export function* mediaPieces(name: string, size: number, pieceSize = 256 * KiB): Generator<Buffer> {
  let x = createHash('sha256').update(name).digest().readUInt32LE(0) || 0x9e3779b9;
  for (let offset = 0; offset < size; offset += pieceSize) {
    const length = Math.min(pieceSize, size - offset);
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    yield Buffer.from(words.buffer, 0, length);
  }
}

/** The whole content of a (small) deterministic media file. */
export function mediaBytes(name: string, size: number): Buffer {
  return Buffer.concat([...mediaPieces(name, size)]);
}
