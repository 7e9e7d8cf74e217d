import { defineToxic } from './toxic.ts';

/**
 * On the next chunk (or end of stream) in its direction: discard it, wait `timeout` ms,
 * then close the link. Connections accepted while this toxic exists close with RST
 * (SO_LINGER=0 in Toxiproxy, `socket.resetAndDestroy()` here); others close with FIN.
 */
export const resetPeer = defineToxic<{ timeout: number }>({
  type: 'reset_peer',
  goName: 'ResetToxic',
  defaults: { timeout: 0 },
  kinds: { timeout: 'int64' },
  resetsOnClose: true,
  async pipe(attributes, stub) {
    const chunk = await stub.read();
    if (chunk === undefined) return;
    stub.acted(chunk === null ? 0 : chunk.data.length); // discarded, then the reset
    // Deviation: Toxiproxy's wait cannot be interrupted; here an interrupt (removal,
    // update) during the wait resets at once instead of blocking the API call.
    await stub.sleep(attributes.timeout);
    stub.close();
  },
});
