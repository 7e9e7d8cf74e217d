// stream-memory (seed 003, ported): 64 MiB flows through a real daemon in both directions (a
// download filled from the origin, the same download served from the cache, a 64 MiB upload) while
// the daemon's own resident set is sampled from /proc/<pid>/statm. Streaming holds a chunk or two;
// buffering would cost 64 MiB+. The test process streams too: it hashes the download piece by
// piece and generates the upload piece by piece, never holding a whole body.
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type RssReport, sampleRss } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  fileSha256,
  freshConfig,
  httpRequest,
  MiB,
  mediaPieces,
  sleep,
  startDaemon,
  stopDaemon,
  useDaemonCleanup,
  writeMedia,
} from './helpers.ts';

useDaemonCleanup();

const BIG = 64 * MiB;
const MAX_GROWTH = 16 * MiB;

/** Streams a GET, hashing as it goes; resolves with size and SHA-256. */
function download(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 60_000 }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.byteLength;
        hash.update(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`download ${url} aborted after ${bytes} bytes`)));
    });
    req.on('timeout', () => req.destroy(new Error(`download ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Streams a generated body into a PUT (backpressure through pipeline); resolves with status + JSON. */
function upload(url: string, name: string, size: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        agent: false,
        timeout: 60_000,
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`upload ${url} timed out`)));
    req.on('error', reject);
    pipeline(Readable.from(mediaPieces(name, size, 64 * 1024)), req).catch(reject);
  });
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
const line = (what: string, r: RssReport<unknown>) =>
  `${what}: baseline ${mib(r.baseline)}, peak ${mib(r.peak)}, growth ${mib(r.growth)} (${r.samples} samples)`;

test('64 MiB downloads and a 64 MiB upload stream through the daemon with RSS growth < 16 MiB', {
  tags: ['stream-memory'],
}, async () => {
  const config = await freshConfig({ cache: { maxBytes: 512 * MiB } });
  const bigSum = await writeMedia(config.media, 'big.bin', BIG);
  const upSum = createHash('sha256');
  for (const piece of mediaPieces('up.bin', BIG, 64 * 1024)) upSum.update(piece);
  const upExpected = upSum.digest('hex');
  await writeMedia(config.media, 'warm.bin', 3 * MiB);
  const d = await startDaemon(config);

  // warm every code path once with small bodies, then let start-up allocations settle
  expect((await httpRequest(`${d.url}/files/warm.bin`)).status).toBe(200);
  expect((await httpRequest(`${d.url}/files/warm.bin`)).status).toBe(200);
  expect((await upload(`${d.url}/files/warm-up.bin`, 'warm-up.bin', 3 * MiB)).status).toBe(201);
  await sleep(1_000);

  const down = await sampleRss(d.pid, async () => {
    const fill = await download(`${d.url}/files/big.bin`); // from the origin, filling the cache
    const hit = await download(`${d.url}/files/big.bin`); // from the cache
    return [fill, hit];
  });
  for (const r of down.result) expect(r).toEqual({ status: 200, bytes: BIG, sha256: bigSum });
  console.log(`[stream-memory] ${line('2 × 64 MiB download (origin fill, then cache hit)', down)}`);

  const up = await sampleRss(d.pid, () => upload(`${d.url}/files/up.bin`, 'up.bin', BIG));
  expect(up.result.status).toBe(201);
  expect(JSON.parse(up.result.body)).toMatchObject({ path: 'up.bin', size: BIG, origin: 'local' });
  expect(await fileSha256(join(config.media, 'up.bin'))).toBe(upExpected);
  console.log(`[stream-memory] ${line('64 MiB upload', up)}`);

  const overall = Math.max(down.peak, up.peak) - down.baseline;
  console.log(
    `[stream-memory] overall: peak ${mib(Math.max(down.peak, up.peak))} over the first baseline ${mib(down.baseline)} = ${mib(overall)}`,
  );
  recordFault({
    kind: 'load',
    name: 'stream-64MiB',
    detail: `3 × 64 MiB streamed through media-cache pid ${d.pid}: RSS growth ${mib(down.growth)} (downloads), ${mib(up.growth)} (upload)`,
    source: 'suite-l2',
    attributes: {
      pid: d.pid,
      bodyBytes: BIG,
      downloadGrowthBytes: down.growth,
      uploadGrowthBytes: up.growth,
      samples: down.samples + up.samples,
    },
  });
  expect(down.growth, line('download', down)).toBeLessThan(MAX_GROWTH);
  expect(up.growth, line('upload', up)).toBeLessThan(MAX_GROWTH);
  await stopDaemon(d);
});
