// Layer-1 helpers: media-cache instances started in-process (with the FAULTLINE_BREAK test hook),
// failpoints that are always removed, and this suite's cleanup registry. Temp dirs, deterministic
// media, the loopback static origin, bounded HTTP / control-socket requests and waits come from
// media-cache-test-support (shared with l2, l3 and the unit tests) and are re-exported here.
//
// Every test file calls `afterEach(cleanup)`: failpoints are removed first (so paused callers are
// released), then every media-cache is closed, every server closed and every temp dir removed.
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cfg, remove } from '@faultline/failpoints';
import {
  type MediaCache,
  type MediaCacheConfigInput,
  type MediaCacheDeps,
  MemoryLogger,
  startMediaCache,
  type UnsafeConfig,
  unsafeFromBreaks,
} from 'media-cache';
import {
  type ChunkFile,
  cleanupTemps,
  diskFiles,
  type HttpResult,
  httpRequest,
  KiB,
  listChunkFiles,
  mediaBytes,
  StaticOrigin as SharedOrigin,
  sha256,
  tempDir as sharedTempDir,
} from 'media-cache-test-support';
import { expect } from 'vitest';

export {
  controlRequest,
  json,
  KiB,
  mediaBytes,
  type OriginMode,
  refusedPort as freePort,
  sha256,
  sleep,
  waitFor,
} from 'media-cache-test-support';

/** Chunk size used by the suite: small, so a file of a few hundred KiB has several chunks. */
export const CHUNK = 64 * KiB;

// ---------------------------------------------------------------------------------------------
// Cleanup registry

const caches: MediaCache[] = [];
const closers: Array<() => Promise<void> | void> = [];
const failpointNames = new Set<string>();

/** Registers extra teardown (run after failpoints are removed, before caches are closed). */
export function onCleanup(fn: () => Promise<void> | void): void {
  closers.push(fn);
}

/** afterEach(cleanup): removes failpoints, runs extra closers, closes caches and servers, removes temp dirs. */
export async function cleanup(): Promise<void> {
  for (const name of failpointNames) remove(name);
  failpointNames.clear();
  const errors: unknown[] = [];
  for (const fn of closers.splice(0).reverse()) {
    try {
      await fn();
    } catch (error) {
      errors.push(error);
    }
  }
  for (const mc of caches.splice(0).reverse()) {
    try {
      await withTimeout(mc.close(), 15_000, `close() of media-cache ${mc.httpUrl}`);
    } catch (error) {
      errors.push(error);
    }
  }
  for (const s of servers.splice(0)) await s.close();
  await cleanupTemps();
  if (errors.length > 0) throw errors[0];
}

/** A fresh temp dir, removed by cleanup(). */
export function tempDir(prefix = 'l1-'): Promise<string> {
  return sharedTempDir(prefix);
}

// ---------------------------------------------------------------------------------------------
// FAULTLINE_BREAK: the honesty hook

/**
 * Test-only: the `unsafe` switches named in FAULTLINE_BREAK (comma-separated; `faultline verify` sets
 * it for each break the matrix declares), each set to true. It turns a protection of media-cache OFF in
 * every instance this suite starts, so verify can show that the covering tests go red without it.
 * Unknown names are an error. The same parser (media-cache's `unsafeFromBreaks`) serves l2 and l3.
 */
export function brokenSwitches(env: string | undefined = process.env.FAULTLINE_BREAK): Partial<UnsafeConfig> {
  return unsafeFromBreaks(env);
}

// ---------------------------------------------------------------------------------------------
// Media files

/** Writes `name` (may contain `/`) under `root` with deterministic content; returns the bytes. */
export async function writeMedia(root: string, name: string, size: number): Promise<Buffer> {
  const data = mediaBytes(name, size);
  await fs.mkdir(dirname(join(root, name)), { recursive: true });
  await fs.writeFile(join(root, name), data);
  return data;
}

// ---------------------------------------------------------------------------------------------
// media-cache in-process

export interface Started {
  mc: MediaCache;
  log: MemoryLogger;
  /** Test dir holding cache/ and media/. */
  dir: string;
  /** The local origin's directory (when the default origin is used). */
  media: string;
  cacheDir: string;
  chunksDir: string;
  input: MediaCacheConfigInput;
}

export interface StartOptions {
  /** Test dir to reuse (restart on the same cache dir); default: a new temp dir. */
  dir?: string;
  /** Config overrides; `origins` replaces the default local origin. */
  config?: Partial<MediaCacheConfigInput>;
  deps?: MediaCacheDeps;
}

/**
 * Starts media-cache in this process on a temp dir: a local origin at `<dir>/media` unless
 * `config.origins` says otherwise, small chunks, fast health rounds (patient checks) and probes. `unsafe`
 * switches from FAULTLINE_BREAK are merged into the config (test-only honesty hook).
 */
export async function startCache(options: StartOptions = {}): Promise<Started> {
  const dir = options.dir ?? (await tempDir());
  const media = join(dir, 'media');
  await fs.mkdir(media, { recursive: true });
  const over = options.config ?? {};
  const cacheDir = over.cacheDir ?? join(dir, 'cache');
  const input: MediaCacheConfigInput = {
    origins: [{ type: 'local', id: 'local', path: media }],
    ...over,
    cacheDir,
    cache: { chunkSize: CHUNK, probeIntervalMs: 100, ...over.cache },
    // A generous default: on a loaded 2-core machine a local origin's check can take longer than
    // 500 ms, which would mark it down (503) in tests that are not about health; those set their own.
    health: { intervalMs: 200, timeoutMs: 2_000, ...over.health },
    timeouts: { drainMs: 500, ...over.timeouts },
    supervisor: { backoffInitialMs: 20, backoffMaxMs: 200, ...over.supervisor },
    unsafe: { ...over.unsafe, ...brokenSwitches() },
  };
  const log = new MemoryLogger();
  const mc = await startMediaCache(input, { log, ...options.deps });
  caches.push(mc);
  return { mc, log, dir, media, cacheDir, chunksDir: join(cacheDir, 'chunks'), input };
}

/**
 * Writes each file (name → size) into the instance's local origin and reads it once through the
 * cache, expecting the same bytes back: afterwards every chunk of those files is cached. Returns
 * the bytes by name.
 */
export async function writeAndCache(cache: Started, sizes: Record<string, number>): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const [name, size] of Object.entries(sizes)) {
    files[name] = await writeMedia(cache.media, name, size);
    expect((await httpGet(`${cache.mc.httpUrl}/files/${name}`)).body.equals(files[name]!)).toBe(true);
  }
  return files;
}

/** Closes an instance started by startCache now (a restart test); cleanup skips it afterwards. */
export async function stopCache(mc: MediaCache): Promise<void> {
  const i = caches.indexOf(mc);
  if (i >= 0) caches.splice(i, 1);
  await withTimeout(mc.close(), 15_000, `close() of media-cache ${mc.httpUrl}`);
}

/** Files under the chunk store: `{ rel, name, path, size }` for chunks, temp files and strays alike. */
export async function chunkFiles(chunksDir: string): Promise<ChunkFile[]> {
  return listChunkFiles(chunksDir);
}

/**
 * The atomic-chunk invariant: every indexed chunk has its file, whole and with the right
 * hash, and no chunk file exists that the index does not name. Returns what is wrong.
 */
export async function indexDiskMismatches(mc: MediaCache, chunksDir: string): Promise<string[]> {
  const problems: string[] = [];
  const indexed = new Map(mc.index.allChunks().map((c) => [c.hash, c.size]));
  for (const [hash, size] of indexed) {
    const data = await fs.readFile(join(chunksDir, hash.slice(0, 2), hash)).catch(() => null);
    if (data === null) problems.push(`index names chunk ${hash.slice(0, 12)} but its file is missing`);
    else if (data.byteLength !== size || sha256(data) !== hash)
      problems.push(`chunk ${hash.slice(0, 12)} on disk is not what the index says (${data.byteLength} bytes)`);
  }
  for (const f of await chunkFiles(chunksDir)) {
    const name = f.rel.split('/').pop()!;
    if (!indexed.has(name)) problems.push(`file ${f.rel} is not in the index`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Failpoints

/** Configures a failpoint on the global registry; cleanup() removes it (releasing paused callers). */
export function fail(name: string, spec: string): void {
  failpointNames.add(name);
  cfg(name, spec);
}

// ---------------------------------------------------------------------------------------------
// A real loopback static origin

/** The shared static origin, with `requests` as the paths requested (what these tests count). */
export class StaticOrigin extends SharedOrigin {
  get requests(): string[] {
    return this.log.map((r) => r.path);
  }
}

const servers: StaticOrigin[] = [];

/**
 * A plain static file server over `root` (GET/HEAD with one Range, `/healthz`), the kind of HTTP
 * origin media-cache reads with `filesPrefix: ''`. Listens on `port` (0: any); cleanup() closes it.
 */
export async function startStaticOrigin(root: string, port = 0): Promise<StaticOrigin> {
  const origin = await new StaticOrigin(diskFiles(root)).listen(port);
  servers.push(origin);
  return origin;
}

/** A static origin over a fresh temp dir holding deterministic media files (name → size, written in order). */
export async function originWithMedia<N extends string>(
  sizes: Record<N, number>,
): Promise<{ root: string; files: Record<N, Buffer>; origin: StaticOrigin }> {
  const root = await tempDir();
  const files = {} as Record<N, Buffer>;
  for (const [name, size] of Object.entries(sizes) as Array<[N, number]>)
    files[name] = await writeMedia(root, name, size);
  return { root, files, origin: await startStaticOrigin(root) };
}

/** The media-cache config of an HTTP origin served by startStaticOrigin (files at the server's root). */
export function httpOrigin(
  id: string,
  url: string,
  priority?: number,
): { type: 'http'; id: string; url: string; filesPrefix: string; priority?: number } {
  return { type: 'http', id, url, filesPrefix: '', ...(priority === undefined ? {} : { priority }) };
}

// ---------------------------------------------------------------------------------------------
// Bounded requests and waits

export type Reply = HttpResult;

/**
 * One HTTP request (no keep-alive), bounded by `timeoutMs` (default 5 s). Rejects when the
 * connection is cut mid-body (a response shorter than its content-length is never a success).
 */
export function httpGet(
  url: string,
  options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  return httpRequest(url, { ...options, timeoutMs: options.timeoutMs ?? 5_000 });
}

/** Rejects with a message naming `what` if `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settles after `promise`, without throwing: for requests expected to fail or be cut. */
export function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error : new Error(String(error)) }),
  );
}
