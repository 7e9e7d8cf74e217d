// upstream-reset (4.7), layer 3: the origin's connection breaks in the middle of a body (Toxiproxy
// `limit_data` truncates each origin response, `reset_peer` resets new connections or closes a live,
// slowed one). Whatever the client receives must never look like a complete success: before the
// headers it gets a clean 5xx, after them the connection is cut short of Content-Length (the hash
// of what arrived does not match). No broken chunk may reach the cache: the chunk files on disk are
// checked byte for byte, and a read after the fault is lifted returns the right bytes.
import { waitFor } from '@faultline/crash';
import { expect, test } from 'vitest';
import {
  cachedChunks,
  control,
  type Fetched,
  get,
  json,
  KiB,
  mediaBytes,
  sha256,
  sleep,
  status,
  useProxiedOrigins,
} from './helpers.ts';

const CHUNK = 64 * KiB;
const SIZE = 8 * CHUNK;
const names = ['cut.bin', 'fresh.bin', 'rst.bin', 'slowcut.bin'] as const;
type Name = (typeof names)[number];
const files = Object.fromEntries(names.map((n) => [n, mediaBytes(n, SIZE)])) as Record<Name, Buffer>;

const { origins, startBehindProxies } = useProxiedOrigins({ origin: 'origin' }, files);

async function setup(ctx: { skip(note: string): void }) {
  // Health rounds only on demand (check-health): after a failed read the origin is marked down,
  // and the test decides when it is looked at again.
  const cache = await startBehindProxies(ctx, {
    cache: { chunkSize: CHUNK },
    timeouts: { readMs: 10_000 },
    health: { intervalMs: 60_000, timeoutMs: 2_000 },
  });
  const recheck = async () => {
    const r = await control<{ result: Array<{ healthy: boolean }> }>(cache.socket, 'PUT', '/actions/check-health');
    expect(r.body.result[0]?.healthy, 'health check after the fault').toBe(true);
  };
  return { ...cache, proxy: cache.proxies.origin, recheck };
}

/** Caches chunk 0 of `name` (and its size) with a small Range read: a later full read sends its headers at once. */
async function warmHead(url: string, name: Name) {
  const r = await get(`${url}/files/${name}`, { headers: { range: 'bytes=0-99' } });
  expect(r).toMatchObject({ status: 206, complete: true });
}

/** A response cut after its headers: never complete, short of Content-Length, wrong hash. */
function expectCutShort(r: Fetched, name: Name) {
  expect(r.status).toBe(200);
  expect(r.contentLength).toBe(SIZE);
  expect(r.error, 'the client must see an error, not a clean end').not.toBeNull();
  expect(r.complete).toBe(false);
  expect(r.bytes).toBeLessThan(SIZE);
  expect(r.sha256).not.toBe(sha256(files[name]));
  // What did arrive is a correct prefix.
  expect(r.body.equals(files[name].subarray(0, r.bytes))).toBe(true);
}

async function expectNothingCorruptCached(mc: Parameters<typeof cachedChunks>[0], name: Name) {
  const chunks = await cachedChunks(mc, name, files[name]);
  for (const c of chunks) expect(c, `cached chunk ${c.idx} of ${name}`).toMatchObject({ size: CHUNK, correct: true });
  return chunks.length;
}

test('limit_data truncates origin bodies: 502 before the headers, a cut connection after, nothing corrupt cached', {
  tags: ['upstream-reset'],
}, async (ctx) => {
  const { env, proxy, url, socket, mc, recheck } = await setup(ctx);
  await warmHead(url, 'cut.bin');

  // Each origin connection closes after 16 KiB: the headers and a quarter of a chunk.
  const limit = await env.toxic(proxy, { type: 'limit_data', attributes: { bytes: 16 * KiB } });

  const cut = await get(`${url}/files/cut.bin`);
  expectCutShort(cut, 'cut.bin');
  expect(cut.bytes, 'at most chunk 0 (cached) went out, then the cut').toBeLessThanOrEqual(CHUNK);

  // A standard client (fetch) fails too instead of resolving a short body.
  await recheck();
  await expect(fetch(`${url}/files/cut.bin`).then((res) => res.arrayBuffer())).rejects.toThrow();

  // Nothing sent yet when the first chunk breaks: a clean 502 with a JSON error.
  await recheck();
  const fresh = await get(`${url}/files/fresh.bin`);
  expect(fresh.status, fresh.error ?? '').toBe(502);
  expect(fresh.complete).toBe(true);
  expect(json<{ error: string }>(fresh).error).toMatch(/truncated|closed after|reset mid-body/);

  const during = await status(socket);
  expect(during.httpCounters.streamAborts).toBeGreaterThanOrEqual(2);
  expect(await expectNothingCorruptCached(mc, 'cut.bin'), 'only the warmed chunk 0 is cached').toBe(1);
  expect(await expectNothingCorruptCached(mc, 'fresh.bin')).toBe(0);
  console.log(
    `[upstream-reset] limit_data 16 KiB: full read cut after ${cut.bytes}/${cut.contentLength} bytes (${cut.error}); uncached read ${fresh.status}`,
  );

  const report = await limit.remove();
  expect(report.type).toBe('limit_data');

  // After the fault: correct bytes, from the origin and then from the cache.
  await recheck();
  for (const name of ['cut.bin', 'fresh.bin'] as const) {
    for (let i = 0; i < 2; i++) {
      const r = await get(`${url}/files/${name}`);
      expect(r).toMatchObject({ status: 200, complete: true, bytes: SIZE, sha256: sha256(files[name]) });
    }
    expect(await expectNothingCorruptCached(mc, name)).toBe(8);
  }
  expect((await status(socket)).counters.chunkCorrupt).toBe(0);
});

test('reset_peer: RST on new origin connections gives a clean 502; a live transfer reset mid-body cuts the client', {
  tags: ['upstream-reset'],
}, async (ctx) => {
  const { env, proxy, url, socket, mc, recheck } = await setup(ctx);
  await warmHead(url, 'slowcut.bin');

  // (a) Connections accepted while reset_peer exists are reset (RST) when the origin answers.
  const rst = await env.toxic(proxy, { type: 'reset_peer', attributes: { timeout: 0 } });
  const refused = await get(`${url}/files/rst.bin`);
  expect(refused.status, refused.error ?? '').toBe(502);
  expect(refused.complete).toBe(true);
  expect(json<{ error: string }>(refused).error).toMatch(/ECONNRESET|socket hang up|reset/);
  await rst.remove();
  await recheck();

  // (b) The origin sends chunk 1 slowly (30 KB/s, ~2.2 s); 300 ms into it, its connection is reset.
  const slow = await env.toxic(proxy, { type: 'bandwidth', attributes: { rate: 30 } });
  origins.origin.clearLog();
  const pending = get(`${url}/files/slowcut.bin`);
  const started = await waitFor(
    'the origin to start sending chunk 1 of slowcut.bin',
    () => origins.origin.reads('slowcut.bin').find((q) => q.start === CHUNK),
    { timeoutMs: 5_000, intervalMs: 5 },
  );
  await sleep(300);
  const reset = await env.toxic(proxy, { type: 'reset_peer', attributes: { timeout: 0 } });
  const cutAfterMs = Math.round(performance.now() - started.at);
  const cut = await pending;
  expectCutShort(cut, 'slowcut.bin');
  expect(cut.bytes, 'at most chunk 0 (cached) went out').toBeLessThanOrEqual(CHUNK);
  expect(await expectNothingCorruptCached(mc, 'slowcut.bin')).toBe(1);
  expect(await expectNothingCorruptCached(mc, 'rst.bin')).toBe(0);
  expect((await status(socket)).httpCounters.streamAborts).toBeGreaterThanOrEqual(1);
  console.log(
    `[upstream-reset] reset_peer: uncached read ${refused.status} (${json<{ error: string }>(refused).error}); ` +
      `live transfer reset ${cutAfterMs} ms into chunk 1: client cut after ${cut.bytes}/${cut.contentLength} bytes (${cut.error})`,
  );

  await reset.remove();
  await slow.remove();
  await recheck();
  for (const name of ['slowcut.bin', 'rst.bin'] as const) {
    const r = await get(`${url}/files/${name}`);
    expect(r).toMatchObject({ status: 200, complete: true, bytes: SIZE, sha256: sha256(files[name]) });
    expect(await expectNothingCorruptCached(mc, name)).toBe(8);
  }
});
