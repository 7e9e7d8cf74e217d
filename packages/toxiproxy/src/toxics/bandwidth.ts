import { defineToxic } from './toxic.ts';

/** Limits a direction to `rate` KB/s (KB = 1000 bytes, so rate is bytes per millisecond). */
export const bandwidth = defineToxic<{ rate: number }>({
  type: 'bandwidth',
  goName: 'BandwidthToxic',
  defaults: { rate: 0 },
  kinds: { rate: 'int64' },
  // Deviation: a negative rate panics the real server (negative slice bound); we refuse it.
  validate: (a) => (a.rate < 0 ? 'rate must be >= 0 (KB/s); 0 stalls the stream like the real server' : undefined),
  async pipe(attributes, stub) {
    const rate = attributes.rate;
    // Sleep debt in ms, corrected by the measured sleep so timer lateness does not accumulate.
    let debt = 0;
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) return stub.end();
      stub.acted(chunk.data.length); // every byte is paced (or, at rate 0, held)
      debt = rate <= 0 ? 0 : debt + chunk.data.length / rate;
      // Large chunks go out in 100 ms slices; with rate 0 this loops forever emitting nothing,
      // exactly like Toxiproxy (data never passes until the toxic is removed).
      const slice = rate * 100;
      let data = chunk.data;
      while (data.length > slice) {
        if (!(await stub.sleep(100))) {
          await stub.write({ data, timestamp: chunk.timestamp });
          return;
        }
        await stub.write({ data: data.subarray(0, slice), timestamp: chunk.timestamp });
        data = data.subarray(slice);
        debt -= 100;
      }
      const start = performance.now();
      const slept = await stub.sleep(debt);
      debt -= performance.now() - start;
      await stub.write({ data, timestamp: chunk.timestamp });
      if (!slept) return;
    }
  },
});
