// slow-client (4.6), layer 3: the daemon runs as its own process (`media-cache serve`), so its
// resident set can be read honestly from /proc/<pid>/statm. Clients that read slowly (through a
// Toxiproxy `bandwidth` toxic between them and the daemon) and clients that stop reading altogether
// (raw sockets that send a GET for a 32 MiB file and never read a byte) ask for far more than the
// daemon may buffer. Its memory must stay flat, a normal client must still be served quickly, and
// the stalled connections must be closed by the daemon's idle timeout rather than held forever.
import { connect, type Socket } from 'node:net';
import { type RssReport, sampleRss } from '@faultline/crash';
import { sharedNetworkEnvironment } from '@faultline/netfaults';
import { recordFault } from '@faultline/vitest';
import { afterAll, afterEach, expect, test } from 'vitest';
import {
  cleanupTemps,
  type Fetched,
  get,
  MiB,
  mediaBytes,
  sha256,
  sleep,
  startChildDaemon,
  status,
  stopChildDaemons,
  tempDir,
  waitForStatus,
  writeFiles,
} from './helpers.ts';

const BIG = 32 * MiB;
const SMALL = 2 * MiB;
const SLOW_CLIENTS = 3;
const STALLED_CLIENTS = 3;
/** KB/s per slow connection (Toxiproxy's unit: 1000 bytes/s). */
const RATE = 100;
const WINDOW_MS = 3_000;
const IDLE_MS = 5_000;
/** The daemon may hold about a chunk per request; buffering what was asked for would be 192 MiB. */
const MAX_GROWTH = 16 * MiB;
const MAX_NORMAL_MS = 1_500;

const net = sharedNetworkEnvironment();
const stalled: Socket[] = [];

afterEach(async () => {
  for (const s of stalled.splice(0)) s.destroy();
  await stopChildDaemons();
  await net.resetToxics();
});
afterAll(async () => {
  await net.close();
  await cleanupTemps();
});

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const describeRss = (r: RssReport<unknown>) =>
  `baseline ${mib(r.baseline)}, peak ${mib(r.peak)}, growth ${mib(r.growth)} (${r.samples} samples)`;

/** A client that sends a GET and then never reads: the daemon's writes back up into the socket. */
function stalledReader(port: number, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: media-cache\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
    stalled.push(socket);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test("slow (bandwidth toxic) and stalled readers neither grow the daemon's memory nor slow a normal client", {
  tags: ['slow-client'],
}, async (ctx) => {
  const env = await net.get(ctx);
  const dir = await tempDir();
  const big = mediaBytes('big.bin', BIG);
  const small = mediaBytes('small.bin', SMALL);
  await writeFiles(`${dir}/media`, { 'big.bin': big, 'small.bin': small });
  const d = await startChildDaemon(dir, {
    cacheDir: 'cache',
    origins: [{ type: 'local', id: 'local', path: 'media' }],
    http: { port: 0, idleTimeoutMs: IDLE_MS },
    cache: { maxBytes: 256 * MiB },
    health: { intervalMs: 5_000, timeoutMs: 2_000 },
  });
  const proxy = await env.proxy('media-cache', d.port);

  // Warm every path (origin fill, cache hits) and measure the normal client at rest.
  expect(await get(`${d.url}/files/big.bin`, { keepBody: false })).toMatchObject({
    status: 200,
    complete: true,
    sha256: sha256(big),
  });
  const quiet: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await get(`${d.url}/files/small.bin`, { keepBody: false });
    expect(r).toMatchObject({ status: 200, complete: true, sha256: sha256(small) });
    quiet.push(r.ms);
  }
  await sleep(500);

  const slowBytes = new Array<number>(SLOW_CLIENTS).fill(0);
  const stop = new AbortController();
  const slow = await env.toxic(proxy, { type: 'bandwidth', attributes: { rate: RATE } });
  const report = await sampleRss(d.pid, async () => {
    const t0 = performance.now();
    const slowReads: Array<Promise<Fetched>> = [];
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      slowReads.push(
        get(proxy.url('/files/big.bin'), {
          keepBody: false,
          timeoutMs: 60_000,
          signal: stop.signal,
          onData: (n) => {
            slowBytes[i] = n;
          },
        }),
      );
    }
    for (let i = 0; i < STALLED_CLIENTS; i++) await stalledReader(d.port, '/files/big.bin');
    const stalledAt = performance.now();
    const busy = await waitForStatus(
      d.socket,
      `${SLOW_CLIENTS + STALLED_CLIENTS} requests in flight`,
      (s) => s.inflight.http >= SLOW_CLIENTS + STALLED_CLIENTS,
      5_000,
    );
    const loaded: Fetched[] = [];
    while (performance.now() - t0 < WINDOW_MS) {
      const r = await get(`${d.url}/files/small.bin`, { keepBody: false });
      loaded.push(r);
      await sleep(200);
    }
    const windowMs = Math.round(performance.now() - t0);
    const stillBusy = await status(d.socket);
    return {
      slowReads,
      busy: busy.status.inflight.http,
      stillBusy: stillBusy.inflight.http,
      loaded,
      windowMs,
      stalledAt,
    };
  });
  const { slowReads, loaded, windowMs } = report.result;

  // The slow clients were really slow (throttled by the toxic, nowhere near done) and still reading.
  const slowSeen = [...slowBytes];
  stop.abort();
  const slowResults = await Promise.all(slowReads);
  for (const [i, r] of slowResults.entries()) {
    expect(r.status, `slow client ${i}: ${r.error}`).toBe(200);
    expect(r.error).toMatch(/aborted by the caller/);
    expect(slowSeen[i], `slow client ${i} received something`).toBeGreaterThan(0);
    expect(slowSeen[i], `slow client ${i} is throttled`).toBeLessThan(((RATE * 1000 * windowMs) / 1000) * 3 + MiB);
  }
  expect(report.result.busy).toBeGreaterThanOrEqual(SLOW_CLIENTS + STALLED_CLIENTS);
  expect(report.result.stillBusy, 'all slow and stalled requests still in flight at the end').toBeGreaterThanOrEqual(
    SLOW_CLIENTS + STALLED_CLIENTS,
  );
  const toxic = await slow.remove();

  // A normal client was served completely and quickly the whole time.
  const loadedMs = loaded.map((r) => r.ms);
  for (const r of loaded) expect(r).toMatchObject({ status: 200, complete: true, sha256: sha256(small) });
  expect(loaded.length).toBeGreaterThanOrEqual(3);
  expect(Math.max(...loadedMs), `normal reads under load: ${loadedMs.join(', ')} ms`).toBeLessThan(MAX_NORMAL_MS);

  // Memory: flat, not the hundreds of MiB the stalled and slow requests asked for.
  console.log(
    `[slow-client] daemon pid ${d.pid} RSS ${describeRss(report)} with ${SLOW_CLIENTS} slow (${RATE} KB/s) + ${STALLED_CLIENTS} stalled readers of ${mib(BIG)} over ${windowMs} ms`,
  );
  console.log(
    `[slow-client] normal ${mib(SMALL)} read: at rest median ${median(quiet)} ms (${quiet.join(', ')}); under load median ${median(loadedMs)} ms, max ${Math.max(...loadedMs)} ms (${loaded.length} reads)`,
  );
  console.log(`[slow-client] slow clients received ${slowSeen.map((b) => `${(b / 1000).toFixed(0)} kB`).join(', ')}`);
  expect(report.growth, describeRss(report)).toBeLessThan(MAX_GROWTH);

  // The stalled readers never read a byte; the daemon closes them at its idle timeout. Node's socket
  // timeout skips its first expiry when the write queue moved since the last write (net.js
  // _onTimeout), so a reader that stalls mid-response is cut after 1-2 × idleTimeoutMs.
  await waitForStatus(
    d.socket,
    'stalled requests closed by the idle timeout',
    (s) => s.inflight.http === 0,
    2 * IDLE_MS + 5_000,
  );
  const stallMs = Math.round(performance.now() - report.result.stalledAt);
  console.log(
    `[slow-client] stalled readers closed by the daemon ${stallMs} ms after they stopped reading (idleTimeoutMs ${IDLE_MS})`,
  );
  expect(stallMs).toBeGreaterThanOrEqual(IDLE_MS - 100);
  expect(stallMs).toBeLessThan(2 * IDLE_MS + 3_000);
  recordFault({
    kind: 'stall',
    name: 'stalled-readers',
    detail: `${STALLED_CLIENTS} raw sockets sent GET /files/big.bin (${mib(BIG)}) and read nothing; daemon RSS growth ${mib(report.growth)}; closed by its idle timeout after ~${stallMs} ms`,
    source: 'suite-l3',
    attributes: { pid: d.pid, clients: STALLED_CLIENTS, requestedBytes: BIG, rssGrowthBytes: report.growth, stallMs },
  });
  expect(toxic.type).toBe('bandwidth');
  expect(d.proc.running, 'the daemon survived').toBe(true);
  const after = await get(`${d.url}/files/small.bin`, { keepBody: false });
  expect(after).toMatchObject({ status: 200, complete: true, sha256: sha256(small) });
});
