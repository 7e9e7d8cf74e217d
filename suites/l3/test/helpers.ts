// The layer-3 suite's own plumbing: origins behind Toxiproxy with the file's hooks
// (useProxiedOrigins), the control socket's status and origin health, and the daemon in process
// (startMediaCache) or as a child process through its bin. Temp dirs, deterministic media, the
// static origin, the HTTP client that reports exactly what arrived and the bin's readiness line come
// from media-cache-test-support (shared with l1, l2 and the unit tests). Every wait is bounded and
// says what it waited for.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ManagedProcess, waitFor } from '@faultline/crash';
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
import {
  cleanupTemps,
  controlRequest,
  memoryFiles,
  type OriginRequest,
  readiness,
  StaticOrigin as SharedOrigin,
  sha256,
  tempDir as sharedTempDir,
  sleep,
  spawnDaemon,
} from 'media-cache-test-support';
import { afterAll, afterEach, beforeAll } from 'vitest';

export {
  cleanupTemps,
  type Fetched,
  type GetOptions,
  getObserved as get,
  json,
  KiB,
  MiB,
  mediaBytes,
  type OriginRequest,
  sha256,
  sleep,
} from 'media-cache-test-support';

/** A fresh temp dir, removed by the hooks of useProxiedOrigins (or cleanupTemps). */
export function tempDir(prefix = 'l3-'): Promise<string> {
  return sharedTempDir(prefix);
}

// ---------------------------------------------------------------------------------------------
// deterministic media

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

/**
 * A named static origin serving files from memory (`GET|HEAD /files/<path>`, `/healthz`, `/list`),
 * what media-cache calls an HTTP origin; every request is logged so a test can tell which origin
 * served what.
 */
export class StaticOrigin extends SharedOrigin {
  readonly name: string;
  readonly files: Map<string, Buffer>;

  private constructor(name: string, files: Map<string, Buffer>) {
    super(memoryFiles(files), { filesPrefix: '/files/' });
    this.name = name;
    this.files = files;
  }

  static start(name: string, files: Record<string, Buffer>): Promise<StaticOrigin> {
    return new StaticOrigin(name, new Map(Object.entries(files))).listen();
  }

  get requests(): OriginRequest[] {
    return this.log;
  }

  /** GETs (data reads, not HEAD/health) of `path` since the log was last cleared. */
  reads(path: string): OriginRequest[] {
    return this.log.filter((r) => r.method === 'GET' && r.path === `/files/${path}`);
  }

  clearLog(): void {
    this.log.length = 0;
  }
}

/** The proxy named `name` in `env`, created on first use (proxies live as long as the file's environment). */
export async function proxyTo(env: NetworkEnvironment, name: string, port: number): Promise<NetProxy> {
  return env.proxies.get(name) ?? (await env.proxy(name, port));
}

// ---------------------------------------------------------------------------------------------
// the control socket

/** A control-socket request whose answer is JSON (or empty): the parsed body. */
export async function control<T = unknown>(
  socket: string,
  method: 'GET' | 'PUT',
  path: string,
  timeoutMs = 15_000,
): Promise<{ status: number; body: T; ms: number }> {
  const reply = await controlRequest(socket, method, path, timeoutMs);
  const text = reply.text();
  try {
    return { status: reply.status, body: (text === '' ? undefined : JSON.parse(text)) as T, ms: Math.round(reply.ms) };
  } catch (error) {
    throw new Error(`control ${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
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
  const proc = spawnDaemon(path);
  children.add(proc);
  const ready = await readiness(proc);
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
