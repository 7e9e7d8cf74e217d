import { defineToxic } from './toxic.ts';

/**
 * Drops all data in its direction. With `timeout > 0` the connection is closed once no
 * chunk has arrived for `timeout` ms (the timer restarts on every dropped chunk, and on a
 * half-close, which it swallows like the data: the FIN never arrives either). Removing
 * the toxic closes the connections it holds, as Toxiproxy's `Cleanup` does.
 */
export const timeout = defineToxic<{ timeout: number }>({
  type: 'timeout',
  goName: 'TimeoutToxic',
  defaults: { timeout: 0 },
  kinds: { timeout: 'int64' },
  closesOnRemove: true,
  async pipe(attributes, stub) {
    for (;;) {
      const chunk = attributes.timeout > 0 ? await stub.readWithin(attributes.timeout) : await stub.read();
      if (chunk === undefined) return;
      // A half-close is swallowed like the data (the timer goes on); a closing connection closes.
      if (chunk === null) {
        if (stub.halfClosed) continue;
        return stub.close();
      }
      if (chunk === false) {
        stub.acted(0); // the connection it closed for want of data
        return stub.close();
      }
      stub.acted(chunk.data.length); // dropped
    }
  },
});
