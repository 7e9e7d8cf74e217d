// origin-failover (4.5), layer 3: two HTTP origins with the same files, each behind its own Toxiproxy
// proxy; `a` is the primary (priority 0), `b` the secondary. When `a` is partitioned (connections
// refused) or its connection is closed mid-transfer (reset_peer on a live, bandwidth-limited
// transfer), `b` serves and the client gets the complete, correct file. When `a` heals, the next
// health check brings it back and it serves again.

import { waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import { get, KiB, mediaBytes, originOf, sha256, sleep, status, useProxiedOrigins, waitForHealth } from './helpers.ts';

const CHUNK = 64 * KiB;
const HEALTH = { intervalMs: 500, timeoutMs: 500 };

const names = ['one.bin', 'two.bin', 'mid.bin', 'three.bin'] as const;
const files = Object.fromEntries(names.map((n) => [n, mediaBytes(n, 4 * CHUNK)])) as Record<
  (typeof names)[number],
  Buffer
>;
// `a` first: the primary (priority 0), `b` the secondary (priority 1).
const { origins, startBehindProxies } = useProxiedOrigins({ a: 'origin-a', b: 'origin-b' }, files);

/** Both origins healthy, their request logs cleared. */
async function setup(ctx: { skip(note: string): void }) {
  const cache = await startBehindProxies(ctx, {
    cache: { chunkSize: CHUNK },
    timeouts: { readMs: 10_000 },
    health: HEALTH,
  });
  origins.a.clearLog();
  origins.b.clearLog();
  return cache;
}

/** After healing: `a` is used again once a health check has seen it, and `b` is left alone. */
async function expectPrimaryBack(url: string, socket: string, file: (typeof names)[number]) {
  const back = await waitForHealth(socket, { a: true }, 10_000);
  expect(back.ms, `a healthy again ${back.ms} ms after healing`).toBeLessThan(
    HEALTH.intervalMs + HEALTH.timeoutMs + 1_500,
  );
  origins.a.clearLog();
  origins.b.clearLog();
  const r = await get(`${url}/files/${file}`);
  expect(r).toMatchObject({ status: 200, complete: true, sha256: sha256(files[file]) });
  expect(origins.a.reads(file).length, 'the primary serves again').toBe(4);
  expect(origins.b.reads(file).length, 'the secondary is not used once the primary is back').toBe(0);
  return back.ms;
}

test('primary partitioned (refused): the secondary serves; the primary is used again after it heals', {
  tags: ['origin-failover'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await setup(ctx);

  const partition = await env.partition(proxies.a);
  const r = await get(`${url}/files/one.bin`);
  expect(r).toMatchObject({ status: 200, complete: true, sha256: sha256(files['one.bin']) });
  expect(origins.b.reads('one.bin').length, 'every chunk came from the secondary').toBe(4);
  expect(origins.a.reads('one.bin').length, 'nothing reached the partitioned primary').toBe(0);
  const during = await status(socket);
  expect(originOf(during, 'a')).toMatchObject({ healthy: false });
  expect(originOf(during, 'a').lastError).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
  expect(originOf(during, 'b')).toMatchObject({ healthy: true });
  expect(during.offline).toBe(false);

  await partition.heal();
  const backMs = await expectPrimaryBack(url, socket, 'two.bin');
  console.log(
    `[origin-failover] refused: read served by b in ${r.ms} ms (failovers ${during.counters.failovers}); a back ${backMs} ms after heal`,
  );
});

test('primary reset mid-transfer (reset_peer on a live slowed transfer): the secondary completes the file', {
  tags: ['origin-failover'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await setup(ctx);

  // 30 KB/s: one 64 KiB chunk takes ~2.2 s to come through `a`, so there is time to cut it.
  const slow = await env.toxic(proxies.a, { type: 'bandwidth', attributes: { rate: 30 } });
  const pending = get(`${url}/files/mid.bin`);
  const started = await waitFor('the primary to start sending mid.bin', () => origins.a.reads('mid.bin')[0], {
    timeoutMs: 5_000,
    intervalMs: 5,
  });
  await sleep(300);
  // Added to the live connection: the next piece is dropped and the connection closed mid-body.
  const reset = await env.toxic(proxies.a, { type: 'reset_peer', attributes: { timeout: 0 } });
  const cutAfterMs = Math.round(performance.now() - started.at);

  const r = await pending;
  expect(r).toMatchObject({ status: 200, complete: true, sha256: sha256(files['mid.bin']) });
  expect(origins.a.reads('mid.bin').length, 'only the first chunk was tried on the primary').toBe(1);
  expect(origins.b.reads('mid.bin').length, 'the secondary served every chunk').toBe(4);
  const during = await status(socket);
  expect(during.counters.failovers).toBeGreaterThanOrEqual(1);
  expect(originOf(during, 'a')).toMatchObject({ healthy: false });
  expect(originOf(during, 'a').lastError).toMatch(/closed after \d+ of 65536 bytes|reset mid-body|ECONNRESET/);
  console.log(
    `[origin-failover] reset_peer ${cutAfterMs} ms into a chunk: a said "${originOf(during, 'a').lastError}"; client got 200, ${r.bytes} bytes, hash ok in ${r.ms} ms`,
  );

  await reset.remove();
  await slow.remove();
  await expectPrimaryBack(url, socket, 'three.bin');
});
