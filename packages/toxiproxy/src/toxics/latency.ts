import { defineToxic } from './toxic.ts';

/**
 * Delays each chunk to `latency ± jitter` ms after it was read. Pipelined (throughput is
 * unchanged) and additive in series, because the wait advances the chunk's timestamp.
 */
export const latency = defineToxic<{ latency: number; jitter: number }>({
  type: 'latency',
  goName: 'LatencyToxic',
  defaults: { latency: 0, jitter: 0 },
  kinds: { latency: 'int64', jitter: 'int64' },
  bufferSize: 1024,
  async pipe(attributes, stub) {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) return stub.end();
      let delay = attributes.latency;
      if (attributes.jitter > 0) delay += Math.floor(stub.random() * 2 * attributes.jitter) - attributes.jitter;
      const wait = delay - (performance.now() - chunk.timestamp);
      if (wait > 0) stub.acted(chunk.data.length);
      // Interrupted mid-wait: forward at once without the delay, never drop data.
      const slept = await stub.sleep(wait);
      if (slept && wait > 0) chunk.timestamp += wait;
      await stub.write(chunk);
      if (!slept) return;
    }
  },
});
