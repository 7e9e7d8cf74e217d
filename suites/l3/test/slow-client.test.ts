// slow-client (4.6), layer 3: the daemon runs as its own process (`media-cache serve`), so its
// resident set can be read honestly from /proc/<pid>/statm. Clients that read slowly (through a
// Toxiproxy `bandwidth` toxic between them and the daemon) and clients that stop reading altogether
// (raw sockets that send a GET for a 32 MiB file and never read a byte) ask for far more than the
// daemon may buffer. Its memory must stay flat, a normal client must still be served quickly, and
// the stalled connections must be closed by the daemon's idle timeout rather than held forever.
import { readFileSync } from 'node:fs';
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

const hexPort = (port: number | undefined) => `:${(port ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Whether the daemon has closed its end of this connection, as the kernel sees it: the stalled reader's
 * receive window is full, so the daemon's FIN cannot reach it (Node would not see it anyway: the socket
 * never reads). The daemon's own side of the connection in /proc/net/tcp leaves ESTABLISHED when it
 * closes (FIN_WAIT1 with its unsent data queued, or gone).
 */
function daemonClosed(socket: Socket): boolean {
  const daemon = hexPort(socket.remotePort);
  const client = hexPort(socket.localPort);
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (local?.endsWith(daemon) && remote?.endsWith(client)) return state !== '01'; // 01: ESTABLISHED
    }
  }
  return true; // no such connection any more
}

/** Polls until the daemon closed every socket (bounded); each one's close time, or undefined if it did not. */
async function closeTimes(sockets: readonly Socket[], boundMs: number): Promise<Array<number | undefined>> {
  const times: Array<number | undefined> = sockets.map(() => undefined);
  const deadline = performance.now() + boundMs;
  while (times.includes(undefined) && performance.now() < deadline) {
    for (const [i, s] of sockets.entries()) if (times[i] === undefined && daemonClosed(s)) times[i] = performance.now();
    await sleep(50);
  }
  return times;
}

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
    const stalledNow: Socket[] = [];
    for (let i = 0; i < STALLED_CLIENTS; i++) stalledNow.push(await stalledReader(d.port, '/files/big.bin'));
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
      stalledNow,
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

  // The stalled readers (straight to the daemon, not through the proxy) never read a byte; the daemon
  // closes each at its idle timeout. What is measured is each stalled socket's own close, so the bound
  // holds whatever Toxiproxy carries the slow clients: Node's socket timeout skips its first expiry when
  // the write queue moved since the last write (net.js _onTimeout), so a reader that stalls
  // mid-response is cut after 1-2 × idleTimeoutMs.
  const { stalledNow, stalledAt } = report.result;
  const bound = 2 * IDLE_MS + 3_000;
  const closed = await closeTimes(stalledNow, bound + 1_000 - (performance.now() - stalledAt));
  expect(
    closed.includes(undefined),
    `the daemon closed all ${STALLED_CLIENTS} stalled readers within ${bound + 1_000} ms`,
  ).toBe(false);
  const stallMs = Math.round(Math.max(...closed.map((t) => (t ?? Number.NaN) - stalledAt)));
  console.log(
    `[slow-client] stalled readers closed by the daemon ${stallMs} ms after they stopped reading (idleTimeoutMs ${IDLE_MS})`,
  );
  expect(stallMs).toBeGreaterThanOrEqual(IDLE_MS - 100);
  expect(stallMs).toBeLessThan(bound);
  // Nothing held forever: the slow clients' requests end too once they hung up; how soon depends on when
  // the Toxiproxy in between closes its upstream side (a real server may hold it while a toxic drains), so
  // this is a liveness bound, not the figure.
  await waitForStatus(d.socket, 'every request closed', (s) => s.inflight.http === 0, 2 * IDLE_MS + WINDOW_MS + 10_000);
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
