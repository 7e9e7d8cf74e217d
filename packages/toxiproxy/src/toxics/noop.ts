import { defineToxic } from './toxic.ts';

/** Passes chunks unchanged; also the hidden first stage of every chain. */
export const noop = defineToxic<Record<never, number>, unknown>({
  type: 'noop',
  goName: 'NoopToxic',
  defaults: {},
  kinds: {},
  async pipe(_attributes, stub) {
    for (;;) {
      const chunk = await stub.read();
      if (chunk === undefined) return;
      if (chunk === null) return stub.end();
      await stub.write(chunk);
    }
  },
});
