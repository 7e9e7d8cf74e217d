import { defineToxic } from './toxic.ts';

interface LimitState {
  transmitted: number;
}

/**
 * Forwards at most `bytes` bytes per link (truncating the chunk that crosses the limit),
 * then closes the connection. The count survives updates and restarts of the stub.
 */
export const limitData = defineToxic<{ bytes: number }, LimitState>({
  type: 'limit_data',
  goName: 'LimitDataToxic',
  defaults: { bytes: 0 },
  kinds: { bytes: 'int64' },
  newState: () => ({ transmitted: 0 }),
  async pipe(attributes, stub) {
    const state = stub.state;
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) return stub.end();
      const remaining = Math.max(0, attributes.bytes - state.transmitted);
      const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
      if (data.length > 0) {
        state.transmitted += data.length;
        await stub.write({ data, timestamp: chunk.timestamp });
      }
      if (attributes.bytes - state.transmitted <= 0) {
        stub.acted(chunk.data.length - data.length); // what it cut, then the close
        return stub.close();
      }
    }
  },
});
