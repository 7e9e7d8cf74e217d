// read-timeout (4.1), layer 3: Toxiproxy sits between media-cache and its HTTP origin. A `timeout`
// toxic (the origin's answers vanish) or a `latency` toxic longer than the deadline makes an origin
// read hang for real, on a real socket; the daemon must answer 504 within `timeouts.readMs` and keep
// serving everything else (cached files, /healthz) during the stall.
import { expect, test } from 'vitest';
import { control, get, json, KiB, mediaBytes, originOf, sha256, sleep, status, useProxiedOrigins } from './helpers.ts';

const CHUNK = 64 * KiB;
const READ_MS = 1_500;
/** Scheduling slack on 2 shared cores: a 504 may come this much after the deadline. */
const SLACK_MS = 1_500;

const files = {
  'cached.bin': mediaBytes('cached.bin', 4 * CHUNK),
  'hang.bin': mediaBytes('hang.bin', 4 * CHUNK),
  'partial.bin': mediaBytes('partial.bin', 4 * CHUNK),
  'fresh.bin': mediaBytes('fresh.bin', 4 * CHUNK),
};

const { origins, startBehindProxies } = useProxiedOrigins({ origin: 'origin' }, files);

const config = {
  cache: { chunkSize: CHUNK },
  timeouts: { readMs: READ_MS },
  // one check at start-up only: the test, not the monitor, decides when the origin comes back
  health: { intervalMs: 60_000, timeoutMs: 1_000 },
};

test('a hanging origin (timeout toxic) gives 504 within readMs while cached files are still served', {
  tags: ['read-timeout'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await startBehindProxies(ctx, config);

  const warm = await get(`${url}/files/cached.bin`);
  expect(warm).toMatchObject({ status: 200, complete: true, sha256: sha256(files['cached.bin']) });

  // Requests to the origin vanish on the way (the connection stays open, nothing comes back). On the
  // downstream stream it would not hang: the origin closes after answering (no keep-alive) and the
  // toxic passes that EOF on, as Toxiproxy's does, so the daemon would see a 502, not a stall.
  const stall = await env.toxic(proxies.origin, { type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
  let hungSettled = false;
  const hung = get(`${url}/files/hang.bin`).finally(() => {
    hungSettled = true;
  });
  await sleep(200);

  // During the stall: the cached file and the health endpoint answer at once.
  const cached = await get(`${url}/files/cached.bin`);
  const healthz = await get(`${url}/healthz`);
  expect(hungSettled, 'the hanging read must still be pending while the others are served').toBe(false);
  expect(cached).toMatchObject({ status: 200, complete: true, sha256: sha256(files['cached.bin']) });
  expect(cached.ms, `cached read took ${cached.ms} ms during the stall`).toBeLessThan(1_000);
  expect(healthz.status).toBe(200);
  expect(healthz.ms).toBeLessThan(1_000);

  const r = await hung;
  expect(r.status, `hanging read: ${r.error ?? r.body.toString()}`).toBe(504);
  expect(r.ms).toBeGreaterThanOrEqual(READ_MS - 50);
  expect(r.ms, `504 after ${r.ms} ms, deadline ${READ_MS} ms`).toBeLessThan(READ_MS + SLACK_MS);
  expect(json<{ error: string }>(r).error).toMatch(/in time|within 1500 ms|deadline/);
  console.log(`[read-timeout] hanging origin → 504 after ${r.ms} ms (readMs ${READ_MS}); cached read ${cached.ms} ms`);

  const during = await status(socket);
  expect(during.counters.readTimeouts).toBeGreaterThanOrEqual(1);
  expect(originOf(during, 'origin')).toMatchObject({ healthy: false });
  expect(
    origins.origin.requests.some((q) => q.path === '/files/hang.bin'),
    'the toxic swallowed the request',
  ).toBe(false);

  const report = await stall.remove();
  expect(report.activeMs).toBeGreaterThanOrEqual(READ_MS);

  // Recovery: the origin answers again after the next health check, and the file is correct.
  const check = await control<{ result: Array<{ id: string; healthy: boolean }> }>(
    socket,
    'PUT',
    '/actions/check-health',
  );
  expect(check.body.result).toEqual([expect.objectContaining({ id: 'origin', healthy: true })]);
  const after = await get(`${url}/files/hang.bin`);
  expect(after).toMatchObject({ status: 200, complete: true, sha256: sha256(files['hang.bin']) });
});

test('a latency toxic longer than the deadline: 504 before the headers, a cut connection after them', {
  tags: ['read-timeout'],
}, async (ctx) => {
  const { env, proxies, url, socket } = await startBehindProxies(ctx, config);

  // Chunk 0 of partial.bin is cached (and its size known), the rest is not.
  const head = await get(`${url}/files/partial.bin`, { headers: { range: 'bytes=0-99' } });
  expect(head.status).toBe(206);

  const slow = await env.toxic(proxies.origin, { type: 'latency', attributes: { latency: 4 * READ_MS } });
  const [fresh, partial] = await Promise.all([get(`${url}/files/fresh.bin`), get(`${url}/files/partial.bin`)]);

  // Nothing was sent yet: a clean 504 within the deadline.
  expect(fresh.status, fresh.error ?? '').toBe(504);
  expect(fresh.ms, `fresh read: 504 after ${fresh.ms} ms`).toBeLessThan(READ_MS + SLACK_MS);
  // Headers and chunk 0 were sent: the deadline cuts the connection, never a short "success".
  expect(partial.status).toBe(200);
  expect(partial.contentLength).toBe(files['partial.bin'].byteLength);
  expect(partial.error, 'the client must see the cut').not.toBeNull();
  expect(partial.complete).toBe(false);
  expect(partial.bytes).toBeLessThan(files['partial.bin'].byteLength);
  expect(partial.ms, `partial read cut after ${partial.ms} ms`).toBeLessThan(READ_MS + SLACK_MS);
  console.log(
    `[read-timeout] latency ${4 * READ_MS} ms: fresh read 504 after ${fresh.ms} ms; ` +
      `partially cached read cut after ${partial.bytes} of ${partial.contentLength} bytes at ${partial.ms} ms (${partial.error})`,
  );

  const s = await status(socket);
  expect(s.counters.readTimeouts).toBeGreaterThanOrEqual(2);
  expect(s.httpCounters.streamAborts).toBeGreaterThanOrEqual(1);
  await slow.remove();
});
