import { defineToxic } from './toxic.ts';

/** Data passes unchanged; the end of stream (a half-close, or the close) is delayed by `delay` ms. */
export const slowClose = defineToxic<{ delay: number }>({
  type: 'slow_close',
  goName: 'SlowCloserToxic',
  defaults: { delay: 0 },
  kinds: { delay: 'int64' },
  async pipe(attributes, stub) {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) {
        if (attributes.delay > 0) stub.acted(0); // the close it delays
        // Interrupted while waiting: close now rather than lose the end of stream.
        await stub.sleep(attributes.delay);
        return stub.end();
      }
      await stub.write(chunk);
    }
  },
});
