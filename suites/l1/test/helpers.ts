// Shared layer-1 helpers: temp dirs, deterministic media files, a real loopback static origin,
// media-cache instances started in-process (with the FAULTLINE_BREAK test hook), failpoints that
// are always removed, bounded HTTP / control-socket requests and bounded waits.
//
// Every test file calls `afterEach(cleanup)`: failpoints are removed first (so paused callers are
// released), then every media-cache is closed, every server closed and every temp dir removed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
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
import { expect } from 'vitest';

export const KiB = 1024;
/** Chunk size used by the suite: small, so a file of a few hundred KiB has several chunks. */
export const CHUNK = 64 * KiB;

// ---------------------------------------------------------------------------------------------
// Cleanup registry

const temps: string[] = [];
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
  for (const dir of temps.splice(0)) await fs.rm(dir, { recursive: true, force: true });
  if (errors.length > 0) throw errors[0];
}

export async function tempDir(prefix = 'l1-'): Promise<string> {
  // Short paths: the control socket path must stay under 108 bytes.
  const dir = await fs.mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
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

/** Deterministic bytes for `name`: the same name always gives the same content. */
export function mediaBytes(name: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (let block = 0; offset < size; block++) {
    const digest = createHash('sha256').update(`${name}\0${block}`).digest();
    offset += digest.copy(out, offset, 0, Math.min(digest.byteLength, size - offset));
  }
  return out;
}

/** Writes `name` (may contain `/`) under `root` with deterministic content; returns the bytes. */
export async function writeMedia(root: string, name: string, size: number): Promise<Buffer> {
  const data = mediaBytes(name, size);
  await fs.mkdir(dirname(join(root, name)), { recursive: true });
  await fs.writeFile(join(root, name), data);
  return data;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
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

/** Files under the chunk store: `{ rel, path, size }` for chunks, temp files and strays alike. */
export async function chunkFiles(chunksDir: string): Promise<Array<{ rel: string; path: string; size: number }>> {
  const out: Array<{ rel: string; path: string; size: number }> = [];
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await fs.readdir(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const path = join(d, name);
      const st = await fs.stat(path);
      if (st.isDirectory()) await walk(path);
      else out.push({ rel: relative(chunksDir, path).split(sep).join('/'), path, size: st.size });
    }
  };
  await walk(chunksDir);
  return out;
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

export type OriginMode = 'ok' | 'hang' | 'error-500';

export interface StaticOrigin {
  url: string;
  port: number;
  /** Switch at runtime: `hang` accepts the request and never answers. */
  mode: OriginMode;
  /** Requests received, by path. */
  requests: string[];
  /** Called when a request arrives in `hang` mode (the fault really happened). */
  onHang: ((req: IncomingMessage) => void) | null;
  close(): Promise<void>;
}

const servers: StaticOrigin[] = [];

/**
 * A plain static file server over `root` (GET/HEAD with one Range, `/healthz`), the kind of HTTP
 * origin media-cache reads with `filesPrefix: ''`. Listens on `port` (0: any).
 */
export async function startStaticOrigin(root: string, port = 0): Promise<StaticOrigin> {
  const sockets = new Set<Socket>();
  const origin: StaticOrigin = {
    url: '',
    port: 0,
    mode: 'ok',
    requests: [],
    onHang: null,
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    origin.requests.push(url.pathname);
    if (origin.mode === 'hang') {
      origin.onHang?.(req);
      return; // never answers; the socket is destroyed on close()
    }
    if (origin.mode === 'error-500') {
      res.writeHead(500).end('broken on purpose');
      return;
    }
    if (url.pathname === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    const path = join(root, decodeURIComponent(url.pathname));
    const st = await fs.stat(path).catch(() => null);
    if (st === null || !st.isFile() || !path.startsWith(root)) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
    res.writeHead(m ? 206 : 200, {
      'content-length': end - start + 1,
      'x-mtime-ms': String(Math.floor(st.mtimeMs)),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}),
    });
    if (req.method === 'HEAD' || st.size === 0) {
      res.end();
      return;
    }
    createReadStream(path, { start, end }).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  origin.port = (server.address() as AddressInfo).port;
  origin.url = `http://127.0.0.1:${origin.port}`;
  let closed: Promise<void> | null = null;
  origin.close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closed;
  };
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

/** A loopback port nothing listens on (connections are refused). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Bounded requests and waits

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

function toReply(res: IncomingMessage, parts: Buffer[], started: number): Reply {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body: Buffer.concat(parts),
    ms: performance.now() - started,
  };
}

/**
 * One HTTP request (no keep-alive), bounded by `timeoutMs`. Rejects when the connection is cut
 * mid-body (a response shorter than its content-length is never returned as a success).
 */
export function httpGet(
  url: string,
  options: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Reply> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`GET ${url}: connection cut mid-body`)));
      res.on('end', () => {
        if (!res.complete) {
          reject(new Error(`GET ${url}: connection cut mid-body`));
          return;
        }
        resolve(toReply(res, parts, started));
      });
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${options.method ?? 'GET'} ${url} did not complete within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP request over the control socket, bounded by `timeoutMs`. */
export function controlRequest(socketPath: string, method: string, path: string, timeoutMs = 5_000): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => resolve(toReply(res, parts, started)));
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`control ${method} ${path} did not complete within ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

export function json<T = Record<string, unknown>>(reply: Reply): T {
  return JSON.parse(reply.body.toString('utf8')) as T;
}

/** Polls `predicate` every 10 ms until it holds; throws after `timeoutMs`, naming what it waited for. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - started;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
