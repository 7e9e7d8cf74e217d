import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { cfg, remove } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import {
  InstanceLockedError,
  type MediaCache,
  type MediaCacheConfigInput,
  type MediaCacheDeps,
  MemoryLogger,
  startMediaCache,
} from '../src/index.ts';
import {
  cleanupTemps,
  controlRequest,
  faultyFs,
  get,
  type StaticOrigin,
  startStaticOrigin,
  tempDir,
  waitFor,
} from './helpers.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
const running: MediaCache[] = [];
const servers: StaticOrigin[] = [];
const failpoints: string[] = [];

afterEach(async () => {
  for (const name of failpoints.splice(0)) remove(name);
  for (const mc of running.splice(0)) await mc.close();
  for (const s of servers.splice(0)) await s.close();
  await cleanupTemps();
});

function fail(name: string, spec: string): void {
  failpoints.push(name);
  cfg(name, spec);
}

interface Setup {
  dir: string;
  media: string;
  mc: MediaCache;
  log: MemoryLogger;
  input: MediaCacheConfigInput;
}

async function setup(
  over: Partial<MediaCacheConfigInput> = {},
  deps: MediaCacheDeps = {},
  dir?: string,
): Promise<Setup> {
  dir ??= await tempDir();
  const media = join(dir, 'media');
  await mkdir(media, { recursive: true });
  const input: MediaCacheConfigInput = {
    cacheDir: join(dir, 'cache'),
    origins: [{ type: 'local', id: 'local', path: media }],
    ...over,
    cache: { chunkSize: CHUNK, probeIntervalMs: 100, ...over.cache },
    health: { intervalMs: 200, timeoutMs: 500, ...over.health },
    timeouts: { drainMs: 500, ...over.timeouts },
  };
  const log = new MemoryLogger();
  const mc = await startMediaCache(input, { log, ...deps });
  running.push(mc);
  return { dir, media, mc, log, input };
}

async function put(dir: string, name: string, size: number): Promise<Buffer> {
  const data = randomBytes(size);
  await mkdir(join(dir, name, '..'), { recursive: true });
  await writeFile(join(dir, name), data);
  return data;
}

async function closeAndForget(mc: MediaCache) {
  running.splice(running.indexOf(mc), 1);
  return mc.close();
}

describe('data server', () => {
  test('GET whole file, Range 206, 416, HEAD, 404, 400; the second read is served from cache', async () => {
    const { media, mc } = await setup();
    const data = await put(media, 'album/track one.flac', 3 * CHUNK + 123);
    const url = `${mc.httpUrl}/files/album/track%20one.flac`;
    const full = await get(url);
    expect(full.status).toBe(200);
    expect(full.body.equals(data)).toBe(true);
    expect(mc.status().counters).toMatchObject({ misses: 4, hits: 0 });
    expect((await get(url)).body.equals(data)).toBe(true);
    expect(mc.status().counters).toMatchObject({ misses: 4, hits: 4 });

    const part = await get(url, { range: `bytes=${CHUNK - 10}-${2 * CHUNK + 9}` });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes ${CHUNK - 10}-${2 * CHUNK + 9}/${data.length}`);
    expect(part.body.equals(data.subarray(CHUNK - 10, 2 * CHUNK + 10))).toBe(true);
    expect((await get(url, { range: 'bytes=-5' })).body.equals(data.subarray(-5))).toBe(true);
    const bad = await get(url, { range: `bytes=${data.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${data.length}`);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect((await get(`${mc.httpUrl}/files/nope.mp3`)).status).toBe(404);
    expect((await get(`${mc.httpUrl}/files/x%2F..%2F..%2Fsecret`)).status).toBe(400);
    expect((await get(`${mc.httpUrl}/healthz`)).status).toBe(200);
  });

  test('PUT streams an upload into the local origin and replaces the cached copy', async () => {
    const { media, mc } = await setup();
    const upload = (body: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${mc.httpUrl}/files/up/big.bin`, { method: 'PUT' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        // Many small writes: the body arrives as a stream, not one buffer.
        Readable.from(
          (function* () {
            for (let i = 0; i < body.length; i += 16 * KiB) yield body.subarray(i, i + 16 * KiB);
          })(),
        ).pipe(req);
      });
    const v1 = randomBytes(2 * 1024 * KiB + 7);
    expect(await upload(v1)).toBe(201);
    expect((await readFile(join(media, 'up/big.bin'))).equals(v1)).toBe(true);
    expect((await get(`${mc.httpUrl}/files/up/big.bin`)).body.equals(v1)).toBe(true);
    const v2 = randomBytes(100 * KiB);
    expect(await upload(v2)).toBe(201);
    expect((await get(`${mc.httpUrl}/files/up/big.bin`)).body.equals(v2)).toBe(true);
    expect((await readdir(join(media, 'up'))).sort()).toEqual(['big.bin']); // no temp upload files
  });

  test('100 concurrent reads all complete (event-loop-stall, light)', async () => {
    const { media, mc } = await setup();
    const files = await Promise.all(Array.from({ length: 10 }, (_, i) => put(media, `f${i}.bin`, CHUNK + i)));
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        get(`${mc.httpUrl}/files/f${i % 10}.bin`).then((r) => r.body.equals(files[i % 10]!)),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
  });
});

describe('chunk integrity (chunk-corruption, atomic-chunk, restart-reconcile, cache-integrity)', () => {
  test('a corrupted or missing chunk is detected by hash and refetched from the origin', async () => {
    const { media, mc } = await setup();
    const data = await put(media, 'a.bin', 2 * CHUNK);
    await get(`${mc.httpUrl}/files/a.bin`);
    const [first, second] = mc.index.fileChunks('a.bin');
    await writeFile(mc.chunks.pathFor(first!.hash), Buffer.alloc(CHUNK, 7));
    await unlink(mc.chunks.pathFor(second!.hash));
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.status().counters).toMatchObject({ chunkCorrupt: 1, chunkMissing: 1 });
    const repaired = await mc.chunks.read(first!.hash, CHUNK);
    expect(repaired.ok).toBe(true);
  });

  test('unsafe.skipChunkVerify serves the corrupted bytes (the protection is what catches it)', async () => {
    const { media, mc } = await setup({ unsafe: { skipChunkVerify: true } });
    const data = await put(media, 'a.bin', CHUNK);
    await get(`${mc.httpUrl}/files/a.bin`);
    await writeFile(mc.chunks.pathFor(mc.index.fileChunks('a.bin')[0]!.hash), Buffer.alloc(CHUNK, 7));
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(false);
  });

  test('failure between chunk write and index insert: request served, no indexed partial chunk, orphan reconciled on restart', async () => {
    const { dir, media, mc, input } = await setup();
    const data = await put(media, 'a.bin', CHUNK);
    fail('chunk.after-write', '1*return(EIO)');
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.index.chunkCount).toBe(0); // never indexed
    expect((await mc.chunks.list()).filter((f) => f.hash !== null)).toHaveLength(1); // the orphan file
    await closeAndForget(mc);
    const again = await setup(input, {}, dir);
    expect(again.mc.startup.reconcile).toMatchObject({ orphansDeleted: 1, missingDropped: 0 });
    expect(await again.mc.chunks.list()).toHaveLength(0);
  });

  test('unsafe.indexBeforeChunkRename: a failed rename leaves an index row with no chunk file', async () => {
    const fs = faultyFs([{ op: 'rename', code: 'EIO', match: '/chunks/', times: 1 }]);
    const { media, mc } = await setup({ unsafe: { indexBeforeChunkRename: true } }, { fs });
    await put(media, 'a.bin', CHUNK);
    await get(`${mc.httpUrl}/files/a.bin`);
    const [row] = mc.index.allChunks();
    expect(row).toBeDefined();
    expect((await mc.chunks.read(row!.hash)).ok).toBe(false); // visible in the index, absent on disk
  });

  test('restart reconciles orphans and missing chunks; a garbage index is quarantined and rebuilt', async () => {
    const { dir, media, mc, input } = await setup();
    const data = await put(media, 'a.bin', 3 * CHUNK);
    await get(`${mc.httpUrl}/files/a.bin`);
    const hashes = mc.index.fileChunks('a.bin').map((c) => c.hash);
    const orphan = randomBytes(100);
    await mc.chunks.write(orphan);
    await closeAndForget(mc);
    await unlink(join(input.cacheDir, 'chunks', hashes[1]!.slice(0, 2), hashes[1]!));

    const second = await setup(input, {}, dir);
    expect(second.mc.startup.reconcile).toMatchObject({ orphansDeleted: 1, missingDropped: 1 });
    expect((await get(`${second.mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    await closeAndForget(second.mc);

    await writeFile(join(input.cacheDir, 'index.db'), 'this is not a database'.repeat(500));
    const third = await setup(input, {}, dir);
    expect(third.mc.startup.db.quarantinedTo).toMatch(/index\.db\.corrupt-/);
    expect(third.mc.startup.reconcile?.orphansDeleted).toBe(3); // every chunk is an orphan of the new index
    expect(third.log.events('index-quarantined')).toHaveLength(1);
    expect((await get(`${third.mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(third.mc.status().startup.db.corruption).toBeTruthy();
  });
});

describe('disk faults (disk-full, passthrough, fd-exhaustion)', () => {
  test('ENOSPC on chunk write is contained: served from origin, counted, eviction triggered', async () => {
    const fs = faultyFs();
    const { media, mc } = await setup({}, { fs });
    const a = await put(media, 'a.bin', 4 * CHUNK);
    const b = await put(media, 'b.bin', CHUNK);
    await get(`${mc.httpUrl}/files/a.bin`);
    fs.faults.push({ op: 'write', code: 'ENOSPC', match: '/chunks/', times: 1 });
    expect((await get(`${mc.httpUrl}/files/b.bin`)).body.equals(b)).toBe(true);
    const counters = mc.status().counters;
    expect(counters).toMatchObject({ diskFullErrors: 1, chunkWriteErrors: 1 });
    await waitFor('eviction after ENOSPC', () => mc.status().counters.evictions >= 1);
    expect(mc.index.bytes).toBeLessThan(4 * CHUNK);
    expect(mc.status().passthrough.active).toBe(false);
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(a)).toBe(true);
  });

  test('the cache never exceeds maxBytes; LRU eviction down to the low watermark', async () => {
    const max = 5 * CHUNK;
    const { media, mc } = await setup({ cache: { maxBytes: max, highWatermark: 0.8, lowWatermark: 0.4 } });
    const files = await Promise.all(Array.from({ length: 8 }, (_, i) => put(media, `f${i}.bin`, CHUNK)));
    for (const [i, data] of files.entries()) {
      expect((await get(`${mc.httpUrl}/files/f${i}.bin`)).body.equals(data)).toBe(true);
      expect(mc.index.bytes).toBeLessThanOrEqual(max);
      const onDisk = (await mc.chunks.list()).reduce((sum, f) => sum + f.size, 0);
      expect(onDisk).toBeLessThanOrEqual(max);
    }
    expect(mc.status().counters.evictedChunks).toBeGreaterThan(0);
    // The most recently used file survived eviction.
    expect(mc.index.fileChunks('f7.bin')).toHaveLength(1);
    const evicted = await controlRequest(mc.controlSocket, 'PUT', '/actions/evict?targetBytes=0');
    expect(evicted.status).toBe(200);
    expect(mc.index.bytes).toBe(0);
  });

  test('cache dir unwritable (EACCES): passthrough, reads go straight to origin, then recovery', async () => {
    const fs = faultyFs([{ op: 'open', code: 'EACCES', match: '/chunks/' }]);
    const { media, mc } = await setup({}, { fs });
    const data = await put(media, 'a.bin', 2 * CHUNK);
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.status().passthrough).toMatchObject({ active: true });
    expect(mc.status().passthrough.reason).toMatch(/EACCES/);
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.status().counters.passthroughReads).toBeGreaterThanOrEqual(2);
    expect(mc.index.chunkCount).toBe(0);
    fs.faults.length = 0; // the disk is writable again: the probe brings the cache back
    await waitFor('passthrough to end', () => !mc.status().passthrough.active, 3000);
    await get(`${mc.httpUrl}/files/a.bin`);
    expect(mc.index.chunkCount).toBe(2);
  });

  test('a cache dir that cannot even be created starts in passthrough', async () => {
    const fs = faultyFs([{ op: 'mkdir', code: 'EACCES', match: '/chunks' }]);
    const { media, mc } = await setup({ cache: { probeIntervalMs: 60_000 } }, { fs });
    const data = await put(media, 'a.bin', 100);
    expect(mc.status().passthrough.active).toBe(true);
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
  });

  test('EMFILE while opening: 503 with Retry-After, and the next request succeeds', async () => {
    const fs = faultyFs();
    const { media, mc } = await setup({}, { fs });
    const data = await put(media, 'a.bin', 100);
    fs.faults.push({ op: 'stat', code: 'EMFILE', match: '/media/', times: 1 });
    const res = await get(`${mc.httpUrl}/files/a.bin`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await get(`${mc.httpUrl}/files/a.bin`)).body.equals(data)).toBe(true);
    expect(mc.status().httpCounters.fdExhausted).toBe(1);
  });
});

describe('origins (read-timeout, offline-mode, origin-failover, upstream-reset)', () => {
  test('a hanging origin read returns 504 within the deadline; other requests are unaffected', async () => {
    const dir = await tempDir();
    const remote = await startStaticOrigin(join(dir, 'remote'));
    servers.push(remote);
    await put(join(dir, 'remote'), 'slow.bin', 100);
    remote.mode = 'hang';
    const { media, mc } = await setup(
      {
        origins: [
          { type: 'local', id: 'local', path: join(dir, 'media'), priority: 0 },
          { type: 'http', id: 'remote', url: remote.url, filesPrefix: '', priority: 1 },
        ],
        timeouts: { readMs: 400 },
        health: { intervalMs: 60_000 },
      },
      {},
      dir,
    );
    const fast = await put(media, 'fast.bin', CHUNK);
    const started = performance.now();
    const slow = get(`${mc.httpUrl}/files/slow.bin`).then((r) => ({
      status: r.status,
      ms: performance.now() - started,
    }));
    const quick = await get(`${mc.httpUrl}/files/fast.bin`);
    expect(quick.body.equals(fast)).toBe(true);
    expect(performance.now() - started).toBeLessThan(300);
    const result = await slow;
    expect(result.status).toBe(504);
    expect(result.ms).toBeGreaterThanOrEqual(390);
    expect(result.ms).toBeLessThan(2000);
  });

  test('all origins down: cached content is served, uncached fails fast with 503, status says offline', async () => {
    const dir = await tempDir();
    const remote = await startStaticOrigin(join(dir, 'remote'));
    servers.push(remote);
    const cached = await put(join(dir, 'remote'), 'cached.bin', 2 * CHUNK);
    await put(join(dir, 'remote'), 'uncached.bin', 10);
    const { mc } = await setup(
      {
        origins: [{ type: 'http', id: 'remote', url: remote.url, filesPrefix: '' }],
        health: { intervalMs: 100, timeoutMs: 200 },
      },
      {},
      dir,
    );
    expect((await get(`${mc.httpUrl}/files/cached.bin`)).body.equals(cached)).toBe(true);
    await remote.close();
    await waitFor('offline', () => mc.status().offline, 3000);
    expect((await get(`${mc.httpUrl}/files/cached.bin`)).body.equals(cached)).toBe(true);
    const started = performance.now();
    const miss = await get(`${mc.httpUrl}/files/uncached.bin`);
    expect(miss.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(200);
    const status = (await controlRequest(mc.controlSocket, 'GET', '/')).json() as {
      offline: boolean;
      origins: Array<{ healthy: boolean }>;
    };
    expect(status.offline).toBe(true);
    expect(status.origins[0]!.healthy).toBe(false);
  });

  test('primary partitioned: the secondary serves; after recovery the primary is used again', async () => {
    const dir = await tempDir();
    const data = await put(join(dir, 'shared'), 'f.bin', CHUNK);
    const primary = await startStaticOrigin(join(dir, 'shared'));
    const secondary = await startStaticOrigin(join(dir, 'shared'));
    servers.push(primary, secondary);
    const { mc } = await setup(
      {
        origins: [
          { type: 'http', id: 'primary', url: primary.url, filesPrefix: '', priority: 0 },
          { type: 'http', id: 'secondary', url: secondary.url, filesPrefix: '', priority: 1 },
        ],
        health: { intervalMs: 100, timeoutMs: 300 },
        timeouts: { readMs: 2000, attemptMs: 300 },
      },
      {},
      dir,
    );
    primary.mode = 'hang';
    await mc.action('evict', { targetBytes: '0' });
    expect((await get(`${mc.httpUrl}/files/f.bin`)).body.equals(data)).toBe(true);
    expect(mc.status().counters.failovers).toBeGreaterThanOrEqual(1);
    primary.mode = 'ok';
    await waitFor('primary healthy again', () => mc.pool.healthOf('primary')?.healthy === true, 3000);
    const before = primary.requests;
    await mc.action('evict', { targetBytes: '0' });
    await mc.index.deleteFile('f.bin');
    await get(`${mc.httpUrl}/files/f.bin`);
    expect(primary.requests).toBeGreaterThan(before);
  });

  test('origin reset mid-body: the client sees an error, never a truncated success', async () => {
    const dir = await tempDir();
    await put(join(dir, 'remote'), 'big.bin', 4 * CHUNK);
    const remote = await startStaticOrigin(join(dir, 'remote'));
    servers.push(remote);
    const { mc } = await setup(
      { origins: [{ type: 'http', id: 'remote', url: remote.url, filesPrefix: '' }], health: { intervalMs: 60_000 } },
      {},
      dir,
    );
    await get(`${mc.httpUrl}/files/big.bin`, { range: `bytes=0-${CHUNK - 1}` }); // chunk 0 cached
    remote.mode = 'reset-mid-body';
    const outcome = await get(`${mc.httpUrl}/files/big.bin`).then(
      (r) => `status ${r.status} with ${r.body.length} bytes`,
      (error: Error) => `error: ${error.message}`,
    );
    // Headers were already sent (chunk 0 came from cache), so the body must be cut short.
    expect(outcome).toMatch(/^error/);
    expect(mc.status().httpCounters.streamAborts).toBe(1);
  });
});

describe('control API (api-fast-path, scan-resume, task-supervisor)', () => {
  test('GET / stays fast while a 1 s mutating action holds the queue', async () => {
    const { mc } = await setup();
    const sleeping = controlRequest(mc.controlSocket, 'PUT', '/actions/sleep?ms=1000');
    await waitFor('the sleep action to start', () => mc.actions.stats().running === 'sleep');
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const res = await controlRequest(mc.controlSocket, 'GET', '/');
      latencies.push(performance.now() - t);
      expect(res.status).toBe(200);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[Math.floor(latencies.length * 0.99)]).toBeLessThan(200);
    const status = (await controlRequest(mc.controlSocket, 'GET', '/')).json() as Record<string, unknown>;
    expect(status).toMatchObject({
      name: 'media-cache',
      pid: process.pid,
      state: 'ready',
      actions: { running: 'sleep' },
    });
    expect((await sleeping).status).toBe(200);
  });

  test('unsafe.statusThroughQueue makes GET / wait for the action (the cell goes red)', async () => {
    const { mc } = await setup({ unsafe: { statusThroughQueue: true } });
    const sleeping = controlRequest(mc.controlSocket, 'PUT', '/actions/sleep?ms=600');
    await waitFor('the sleep action to start', () => mc.actions.stats().running === 'sleep');
    const t = performance.now();
    await controlRequest(mc.controlSocket, 'GET', '/');
    expect(performance.now() - t).toBeGreaterThan(300);
    await sleeping;
  });

  test('actions time out with 504 and unknown actions are 404', async () => {
    const { mc } = await setup();
    const res = await controlRequest(mc.controlSocket, 'PUT', '/actions/sleep?ms=5000&timeoutMs=100');
    expect(res.status).toBe(504);
    expect((await controlRequest(mc.controlSocket, 'PUT', '/actions/nope')).status).toBe(404);
    expect((await controlRequest(mc.controlSocket, 'GET', '/actions/sleep')).status).toBe(405);
  });

  test('an interrupted scan resumes from its checkpoint: no duplicates, no gaps', async () => {
    const { media, mc } = await setup({ scan: { batchSize: 10 } });
    const names = Array.from({ length: 35 }, (_, i) => `dir${i % 3}/file-${String(i).padStart(2, '0')}.mp3`);
    for (const name of names) await put(media, name, 10);
    fail('scan.batch', '2*off->1*return(EIO)');
    const broken = await controlRequest(mc.controlSocket, 'PUT', '/actions/rescan');
    expect(broken.status).toBe(500);
    const cp = await mc.scanner.cursor('local');
    expect(cp.cursor).toMatchObject({ done: false, count: 20 });

    // A crash between the batch commit and the checkpoint write replays that batch, harmlessly.
    fail('scan.before-checkpoint', '1*return(EIO)');
    await expect(mc.action('rescan')).rejects.toThrow(/EIO/);
    const res = await controlRequest(mc.controlSocket, 'PUT', '/actions/rescan');
    expect(res.status).toBe(200);
    const [report] = (res.json() as { result: Array<Record<string, unknown>> }).result;
    expect(report).toMatchObject({
      resumed: true,
      resumedAfter: expect.any(String),
      replayed: 10,
      total: 35,
      done: true,
    });
    const recorded = mc.index.scanEntries(report!.scanId as string).map((e) => e.path);
    expect(recorded).toEqual([...names].sort());
    // The next rescan is a fresh scan id.
    const next = (await mc.action('rescan')) as Array<{ scanId: string; resumed: boolean; total: number }>;
    expect(next[0]).toMatchObject({ resumed: false, total: 35 });
    expect(next[0]!.scanId).not.toBe(report!.scanId);
  });

  test('a background task that crashes is restarted and visible in status', async () => {
    fail('task.health-monitor', '1*panic(health monitor crashed)->off');
    const { mc, log } = await setup({ supervisor: { backoffInitialMs: 20 } });
    await waitFor('the restart', () => mc.supervisor.task('health-monitor')?.restarts === 1);
    const task = mc.status().tasks.find((t) => t.name === 'health-monitor');
    expect(task).toMatchObject({ critical: true, state: 'running', failures: 1, lastError: 'health monitor crashed' });
    expect(log.events('task-failed')).toHaveLength(1);
  });
});

describe('lifecycle (shutdown-order, stale-socket)', () => {
  test('close drains, aborts a stuck request cleanly within the deadline, tears down in order', async () => {
    const dir = await tempDir();
    const remote = await startStaticOrigin(join(dir, 'remote'));
    servers.push(remote);
    await put(join(dir, 'remote'), 'stuck.bin', 10);
    const { mc } = await setup(
      {
        origins: [{ type: 'http', id: 'remote', url: remote.url, filesPrefix: '' }],
        timeouts: { drainMs: 300, readMs: 30_000 },
        health: { intervalMs: 60_000 },
      },
      {},
      dir,
    );
    remote.mode = 'hang';
    const stuck = get(`${mc.httpUrl}/files/stuck.bin`).then(
      (r) => r.status,
      () => 'error',
    );
    await waitFor('the request to be in flight', () => mc.dataServer.inflight.size === 1);
    const started = performance.now();
    const report = await closeAndForget(mc);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(report.abortedRequests).toBe(1);
    expect(report.steps.map((s) => s.step)).toEqual([
      'stop-accepting',
      'drain',
      'actions',
      'control',
      'supervisor',
      'origins',
      'db',
      'socket',
      'lock',
    ]);
    expect(report.steps.every((s) => s.error === undefined)).toBe(true);
    expect(await stuck).toBe(503);
    expect(mc.index.closed).toBe(true);
    await expect(readFile(mc.controlSocket)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'cache'))).not.toContain('media-cache.pid');
  });

  test('an in-flight read that finishes within the drain deadline completes', async () => {
    const { media, mc } = await setup({ timeouts: { drainMs: 3000 } });
    const data = await put(media, 'a.bin', 2 * CHUNK);
    fail('origin.read', '1*sleep(300)');
    const reading = get(`${mc.httpUrl}/files/a.bin`);
    await waitFor('in flight', () => mc.dataServer.inflight.size === 1);
    const report = await closeAndForget(mc);
    expect(report.abortedRequests).toBe(0);
    expect((await reading).body.equals(data)).toBe(true);
  });

  test('a live owner is refused; a stale lock and socket are cleaned', async () => {
    const { dir, mc, input } = await setup();
    await expect(startMediaCache(input, { log: new MemoryLogger() })).rejects.toBeInstanceOf(InstanceLockedError);
    await closeAndForget(mc);
    const dead = 2 ** 22 + 4321;
    await writeFile(
      join(dir, 'cache', 'media-cache.pid'),
      JSON.stringify({ pid: dead, startedAt: 'then', socket: mc.controlSocket }),
    );
    await writeFile(mc.controlSocket, ''); // a leftover socket path nobody listens on
    const again = await setup(input, {}, dir);
    expect(again.mc.startup.stale).toEqual({ previousPid: dead, lockRemoved: true, socketRemoved: true });
    expect((await controlRequest(again.mc.controlSocket, 'GET', '/')).status).toBe(200);
  });
});
