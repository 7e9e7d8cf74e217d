import { defineToxic } from './toxic.ts';

/**
 * Splits each chunk into pieces of about `average_size ± size_variation` bytes and writes
 * them `delay` µs apart. No bytes are lost.
 */
export const slicer = defineToxic<{ average_size: number; size_variation: number; delay: number }>({
  type: 'slicer',
  goName: 'SlicerToxic',
  defaults: { average_size: 0, size_variation: 0, delay: 0 },
  kinds: { average_size: 'int', size_variation: 'int', delay: 'int' },
  // Deviations: these values overflow the real server's stack (the whole process dies).
  validate: (a) => {
    if (a.average_size <= 0) return 'average_size must be > 0 (bytes); 0 or less crashes the real server';
    if (a.size_variation < 0) return 'size_variation must be >= 0 (bytes); a negative value crashes the real server';
    return undefined;
  },
  async pipe(attributes, stub) {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) return stub.end();
      const bounds = [0];
      split(0, chunk.data.length, attributes.average_size, attributes.size_variation, () => stub.random(), bounds);
      if (bounds.length > 2) stub.acted(chunk.data.length); // only a chunk it split
      for (let i = 1; i < bounds.length; i++) {
        await stub.write({ data: chunk.data.subarray(bounds[i - 1], bounds[i]), timestamp: chunk.timestamp });
        if (i + 1 < bounds.length && !(await stub.sleep(attributes.delay / 1000))) {
          // Interrupted: the rest goes out in one piece.
          await stub.write({ data: chunk.data.subarray(bounds[i]), timestamp: chunk.timestamp });
          return;
        }
      }
    }
  },
});

/**
 * Toxiproxy's recursive halving, appending piece end offsets. The midpoint is clamped
 * inside the segment: the real server panics on a negative slice bound when
 * `size_variation` is large (documented deviation: we just split less randomly).
 */
function split(start: number, end: number, average: number, variation: number, random: () => number, out: number[]) {
  const size = end - start;
  if (size - average <= variation || size <= 1) {
    out.push(end);
    return;
  }
  let mid = start + Math.floor(size / 2);
  if (variation > 0) mid += Math.floor(random() * 2 * variation) - variation;
  mid = Math.min(end - 1, Math.max(start + 1, mid));
  split(start, mid, average, variation, random, out);
  split(mid, end, average, variation, random, out);
}
