// Shared plumbing for the layer-3 suite: temp dirs, deterministic media, a real HTTP static-file
// origin (Range support, request log) to put behind Toxiproxy, an HTTP client that reports exactly
// what arrived (status, Content-Length, bytes, SHA-256, how the body ended), the control socket,
// the daemon in process (startMediaCache) or as a child process through its bin, and
// useProxiedOrigins(): a test file's origins behind Toxiproxy with the file's hooks. Every wait is
// bounded and says what it waited for.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManagedProcess, spawnManaged, waitFor, waitForLine } from '@faultline/crash';
import {
  type NetProxy,
  type NetworkEnvironment,
  type SkipContext,
  sharedNetworkEnvironment,
} from '@faultline/netfaults';
import {
  type MediaCache,
  type MediaCacheConfigInput,
  type MediaCacheStatus,
  MemoryLogger,
  type OriginHealth,
  startMediaCache,
  unsafeFromBreaks,
} from 'media-cache';
import { afterAll, afterEach, beforeAll } from 'vitest';

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------------------------------------
// temp dirs

const temps: string[] = [];

/** A fresh temp dir (short: the control socket path must stay under 108 bytes). */
export async function tempDir(prefix = 'l3-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export async function cleanupTemps(): Promise<void> {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// deterministic media

/** Deterministic pseudo-random bytes for a name (xorshift32 seeded from the name's hash). */
export function mediaBytes(name: string, size: number): Buffer {
  let x = createHash('sha256').update(name).digest().readUInt32LE(0) || 0x9e3779b9;
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, size);
}

/** Writes `files` under `root` (a local origin's directory). */
export async function writeFiles(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [name, data] of Object.entries(files)) {
    const path = join(root, name);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, data);
  }
}

// ---------------------------------------------------------------------------------------------
// a static HTTP origin

export interface OriginRequest {
  method: string;
  path: string;
  /** First byte of a Range request, or null. */
  start: number | null;
  at: number;
}

/**
 * A plain static file server on 127.0.0.1 (what media-cache calls an HTTP origin): `GET|HEAD
 * /files/<path>` with a single `Range` (206/416), `GET /healthz`, `GET /list`. Files live in
 * memory; every request is logged so a test can tell which origin served what.
 */
export class StaticOrigin {
  readonly name: string;
  readonly files = new Map<string, Buffer>();
  readonly requests: OriginRequest[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;

  private constructor(name: string, files: Record<string, Buffer>) {
    this.name = name;
    for (const [path, data] of Object.entries(files)) this.files.set(path, data);
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://origin.invalid');
      const method = req.method ?? 'GET';
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      const path = decodeURIComponent(url.pathname);
      this.requests.push({ method, path, start: range ? Number(range[1]) : null, at: performance.now() });
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}\n');
        return;
      }
      if (url.pathname === '/list') {
        const entries = [...this.files.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([p, d]) => ({ path: p, size: d.byteLength, mtimeMs: 1_700_000_000_000 }));
        const body = JSON.stringify({ entries, next: null });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      const file = path.startsWith('/files/') ? this.files.get(path.slice('/files/'.length)) : undefined;
      if (file === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      const headers = {
        'accept-ranges': 'bytes',
        'content-type': 'application/octet-stream',
        'last-modified': new Date(1_700_000_000_000).toUTCString(),
      };
      let start = 0;
      let end = file.byteLength - 1;
      let status = 200;
      if (range) {
        start = Number(range[1]);
        end = range[2] === '' ? end : Math.min(Number(range[2]), end);
        if (start > end || start >= file.byteLength) {
          res.writeHead(416, { 'content-range': `bytes */${file.byteLength}` });
          res.end();
          return;
        }
        status = 206;
        Object.assign(headers, { 'content-range': `bytes ${start}-${end}/${file.byteLength}` });
      }
      res.writeHead(status, { ...headers, 'content-length': end - start + 1 });
      if (method === 'HEAD') res.end();
      else res.end(file.subarray(start, end + 1));
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(name: string, files: Record<string, Buffer>): Promise<StaticOrigin> {
    const origin = new StaticOrigin(name, files);
    await new Promise<void>((resolve, reject) => {
      origin.#server.once('error', reject);
      origin.#server.listen(0, '127.0.0.1', () => resolve());
    });
    origin.port = (origin.#server.address() as AddressInfo).port;
    return origin;
  }

  /** GETs (data reads, not HEAD/health) of `path` since the log was last cleared. */
  reads(path: string): OriginRequest[] {
    return this.requests.filter((r) => r.method === 'GET' && r.path === `/files/${path}`);
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The proxy named `name` in `env`, created on first use (proxies live as long as the file's environment). */
export async function proxyTo(env: NetworkEnvironment, name: string, port: number): Promise<NetProxy> {
  return env.proxies.get(name) ?? (await env.proxy(name, port));
}

// ---------------------------------------------------------------------------------------------
// an HTTP client that tells the whole truth about a response

export interface Fetched {
  /** 0 when no response head arrived. */
  status: number;
  headers: IncomingHttpHeaders;
  /** Declared Content-Length, or null. */
  contentLength: number | null;
  /** Body bytes received. */
  bytes: number;
  sha256: string;
  /** The body, when `keepBody` (default true). */
  body: Buffer;
  /** How the exchange failed (connection error, cut mid-body, client timeout), or null if it ended normally. */
  error: string | null;
  /** The body ended normally and has exactly Content-Length bytes. */
  complete: boolean;
  ms: number;
}

export interface GetOptions {
  headers?: Record<string, string>;
  method?: 'GET' | 'HEAD';
  /** Client-side bound; the result then has `error: 'client timeout …'`. Default 20 s. */
  timeoutMs?: number;
  keepBody?: boolean;
  /** Called with each body piece (for progress-driven tests). */
  onData?: (bytes: number) => void;
  /** Aborting destroys the connection; the result then has `error: 'aborted by the caller …'`. */
  signal?: AbortSignal;
}

/**
 * One request on a fresh connection. Never throws for network trouble: a connection error, a
 * body cut short or a client timeout is reported in `error`, with what arrived before it.
 */
export function get(url: string, options: GetOptions = {}): Promise<Fetched> {
  const { timeoutMs = 20_000, keepBody = true } = options;
  const started = performance.now();
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const parts: Buffer[] = [];
    let bytes = 0;
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    let settled = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const cl = headers['content-length'] === undefined ? null : Number(headers['content-length']);
      const body = Buffer.concat(parts);
      resolve({
        status,
        headers,
        contentLength: cl,
        bytes,
        sha256: hash.digest('hex'),
        body,
        error,
        complete: error === null && (cl === null || options.method === 'HEAD' || cl === bytes),
        ms: Math.round(performance.now() - started),
      });
    };
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        hash.update(chunk);
        if (keepBody) parts.push(chunk);
        options.onData?.(bytes);
      });
      res.on('end', () => finish(res.complete ? null : `body ended early after ${bytes} bytes`));
      res.on('aborted', () => finish(`connection cut mid-body after ${bytes} bytes`));
      res.on('error', (e) => finish(`${(e as NodeJS.ErrnoException).code ?? e.message} after ${bytes} body bytes`));
      res.on('close', () => finish(res.complete ? null : `connection closed mid-body after ${bytes} bytes`));
    });
    const timer = setTimeout(() => {
      finish(`client timeout after ${timeoutMs} ms (${bytes} body bytes)`);
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish(`${(e as NodeJS.ErrnoException).code ?? e.message} (${bytes} body bytes)`));
    options.signal?.addEventListener(
      'abort',
      () => {
        finish(`aborted by the caller after ${bytes} body bytes`);
        req.destroy();
      },
      { once: true },
    );
    req.end();
  });
}

/** JSON body of a small response. */
export function json<T = Record<string, unknown>>(f: Fetched): T {
  return JSON.parse(f.body.toString('utf8')) as T;
}

// ---------------------------------------------------------------------------------------------
// the control socket

export function control<T = unknown>(
  socket: string,
  method: 'GET' | 'PUT',
  path: string,
  timeoutMs = 15_000,
): Promise<{ status: number; body: T; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: (text === '' ? undefined : JSON.parse(text)) as T,
            ms: Math.round(performance.now() - started),
          });
        } catch (error) {
          reject(new Error(`control ${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`, { cause: error }));
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`control ${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** `GET /` on the control socket: the daemon's status snapshot. */
export async function status(socket: string): Promise<MediaCacheStatus> {
  const r = await control<MediaCacheStatus>(socket, 'GET', '/');
  if (r.status !== 200) throw new Error(`control GET / answered ${r.status}`);
  return r.body;
}

export function originOf(s: MediaCacheStatus, id: string): OriginHealth {
  const o = s.origins.find((x) => x.id === id);
  if (o === undefined) throw new Error(`status has no origin "${id}" (has ${s.origins.map((x) => x.id).join(', ')})`);
  return o;
}

/** Waits until the status (read on the control socket) satisfies `ok`; returns it and how long it took. */
export async function waitForStatus(
  socket: string,
  what: string,
  ok: (s: MediaCacheStatus) => boolean,
  timeoutMs = 10_000,
): Promise<{ status: MediaCacheStatus; ms: number }> {
  const started = performance.now();
  const s = await waitFor(
    what,
    async () => {
      const snap = await status(socket);
      return ok(snap) ? snap : undefined;
    },
    { timeoutMs, intervalMs: 20 },
  );
  return { status: s, ms: Math.round(performance.now() - started) };
}

/** Waits until every listed origin has the given health. */
export function waitForHealth(
  socket: string,
  want: Record<string, boolean>,
  timeoutMs = 10_000,
): Promise<{ status: MediaCacheStatus; ms: number }> {
  const text = Object.entries(want)
    .map(([id, h]) => `${id} ${h ? 'healthy' : 'unhealthy'}`)
    .join(', ');
  return waitForStatus(
    socket,
    `origins ${text}`,
    (s) => Object.entries(want).every(([id, h]) => originOf(s, id).healthy === h),
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------
// the daemon in this process

export interface HttpOriginSpec {
  id: string;
  proxy: NetProxy;
  priority?: number;
}

export interface InProcessCache {
  mc: MediaCache;
  log: MemoryLogger;
  url: string;
  socket: string;
  dir: string;
}

const running = new Set<MediaCache>();

/** startMediaCache with a fresh cache dir and the given HTTP origins (each dialled through its proxy). */
export async function startCache(
  origins: HttpOriginSpec[],
  extra: Omit<MediaCacheConfigInput, 'cacheDir' | 'origins'> = {},
): Promise<InProcessCache> {
  const dir = await tempDir();
  const log = new MemoryLogger();
  const mc = await startMediaCache(
    {
      cacheDir: join(dir, 'cache'),
      origins: origins.map((o, i) => ({ type: 'http', id: o.id, url: o.proxy.url('/'), priority: o.priority ?? i })),
      ...extra,
      // FAULTLINE_BREAK (faultline verify): the unsafe switches it names, in every cache this suite starts.
      unsafe: { ...extra.unsafe, ...unsafeFromBreaks() },
    },
    { log },
  );
  running.add(mc);
  return { mc, log, url: mc.httpUrl, socket: mc.controlSocket, dir };
}

/**
 * What the cache holds for `path`, read straight from the chunk files on disk (no verification on
 * the way): for each cached chunk, whether its bytes are exactly that slice of `expected`.
 */
export async function cachedChunks(
  mc: MediaCache,
  path: string,
  expected: Buffer,
): Promise<Array<{ idx: number; size: number; correct: boolean }>> {
  const chunkSize = mc.config.cache.chunkSize;
  const out: Array<{ idx: number; size: number; correct: boolean }> = [];
  for (const { idx, hash } of mc.index.fileChunks(path)) {
    const data = await readFile(mc.chunks.pathFor(hash));
    const want = expected.subarray(idx * chunkSize, (idx + 1) * chunkSize);
    out.push({ idx, size: data.byteLength, correct: data.equals(want) && sha256(data) === hash });
  }
  return out;
}

export async function stopCaches(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((mc) => mc.close()));
}

// ---------------------------------------------------------------------------------------------
// a test file's origins behind Toxiproxy, with its hooks

export interface ProxiedCache<Id extends string> extends InProcessCache {
  env: NetworkEnvironment;
  /** Each origin's proxy, by origin id. */
  proxies: Record<Id, NetProxy>;
}

export interface ProxiedOrigins<Id extends string> {
  /** The static origins by id (each named after its id, serving the same files); started in beforeAll. */
  origins: Record<Id, StaticOrigin>;
  /**
   * startCache on every origin, each dialled through its proxy (priorities in the order of the ids),
   * then waits until the control socket says every origin is healthy. Skips the test when no
   * Toxiproxy backend is available.
   */
  startBehindProxies(
    ctx: SkipContext,
    extra?: Omit<MediaCacheConfigInput, 'cacheDir' | 'origins'>,
  ): Promise<ProxiedCache<Id>>;
}

/**
 * For a test file whose in-process caches read real static origins through Toxiproxy: `proxyNames`
 * maps each origin id to its proxy's name. Registers the file's hooks: origins started beforeAll;
 * afterEach every cache stopped and every toxic removed; afterAll the environment closed, the
 * origins closed and the temp dirs removed.
 */
export function useProxiedOrigins<Id extends string>(
  proxyNames: Record<Id, string>,
  files: Record<string, Buffer>,
): ProxiedOrigins<Id> {
  const ids = Object.keys(proxyNames) as Id[];
  const net = sharedNetworkEnvironment();
  const origins = {} as Record<Id, StaticOrigin>;
  beforeAll(async () => {
    for (const id of ids) origins[id] = await StaticOrigin.start(id, files);
  });
  afterEach(async () => {
    await stopCaches();
    await net.resetToxics();
  });
  afterAll(async () => {
    await net.close();
    for (const id of ids) await origins[id]?.close();
    await cleanupTemps();
  });
  return {
    origins,
    async startBehindProxies(ctx, extra = {}) {
      const env = await net.get(ctx);
      const proxies = {} as Record<Id, NetProxy>;
      for (const id of ids) proxies[id] = await proxyTo(env, proxyNames[id], origins[id].port);
      const cache = await startCache(
        ids.map((id) => ({ id, proxy: proxies[id] })),
        extra,
      );
      await waitForHealth(cache.socket, Object.fromEntries(ids.map((id) => [id, true])));
      return { env, proxies, ...cache };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the daemon as a child process (for honest RSS)

export const BIN = join(import.meta.dirname, '..', '..', '..', 'packages', 'media-cache', 'bin', 'media-cache.js');

export interface ChildDaemon {
  proc: ManagedProcess;
  pid: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  socket: string;
}

const children = new Set<ManagedProcess>();

/** Writes `<dir>/config.json` and runs `media-cache serve --config` until its readiness line. */
export async function startChildDaemon(dir: string, config: Record<string, unknown>): Promise<ChildDaemon> {
  const path = join(dir, 'config.json');
  const unsafe = { ...(config.unsafe as Record<string, boolean> | undefined), ...unsafeFromBreaks() };
  await writeFile(path, `${JSON.stringify({ ...config, unsafe }, null, 2)}\n`);
  const proc = spawnManaged({ node: BIN }, ['serve', '--config', path], { name: 'media-cache' });
  children.add(proc);
  const match = await waitForLine(proc, /^\{"event":"ready".*\}$/, { stream: 'stdout', timeoutMs: 15_000 });
  const ready = JSON.parse(match[0]) as { http: string; control: string; pid: number };
  const port = Number(ready.http.slice(ready.http.lastIndexOf(':') + 1));
  return { proc, pid: ready.pid, url: `http://127.0.0.1:${port}`, port, socket: ready.control };
}

/** SIGTERM every child daemon and wait for it (SIGKILL after 10 s). */
export async function stopChildDaemons(): Promise<void> {
  const all = [...children];
  children.clear();
  await Promise.all(
    all.map(async (proc) => {
      if (!proc.running) return;
      proc.kill('SIGTERM', 'process');
      const exited = await Promise.race([proc.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!exited) {
        proc.kill('SIGKILL');
        await proc.exited;
      }
    }),
  );
}
