// The layer-2 suite's own plumbing: the per-file hooks (useDaemonCleanup), temp dirs with config
// files and media (freshConfig, writeMediaFiles), the real media-cache daemon started through its
// bin, status and failpoint hit counts read from a daemon started with FAILPOINTS_HTTP, and disk
// inspection. Temp dirs, deterministic media, the bin and its readiness line, and the HTTP clients
// come from media-cache-test-support (shared with l1, l3 and the unit tests). Every wait is bounded
// and says what it waited for.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import {
  installOrphanGuard,
  type LimitedProcess,
  type ManagedProcess,
  type Rlimits,
  spawnManaged,
  waitFor,
  waitForExit,
  waitForLine,
} from '@faultline/crash';
import {
  cleanupTemps,
  controlRequest,
  getObserved,
  httpRequest,
  listChunkFiles,
  MEDIA_CACHE_BIN,
  mediaPieces,
  type Readiness,
  readiness,
  serveArgs,
  sha256,
  tempDir as sharedTempDir,
  spawnDaemon,
} from 'media-cache-test-support';
import { afterEach } from 'vitest';
import { brokenSwitches } from './breaks.ts';

export {
  type ChunkFile,
  cleanupTemps,
  type HttpResult,
  httpRequest,
  listChunkFiles,
  MiB,
  mediaBytes,
  mediaPieces,
  type Readiness,
  type RequestOptions,
  sha256,
  sleep,
} from 'media-cache-test-support';

/** A fresh temp dir, removed by cleanupDaemons(). */
export function tempDir(prefix = 'l2-'): Promise<string> {
  return sharedTempDir(prefix);
}

// ---------------------------------------------------------------------------------------------
// deterministic media

/** Writes a deterministic media file under `root` (streamed); returns its SHA-256. */
export async function writeMedia(root: string, name: string, size: number): Promise<string> {
  const path = join(root, name);
  await mkdir(join(path, '..'), { recursive: true });
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (const piece of mediaPieces(name, size)) {
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return hash.digest('hex');
}

/** SHA-256 of a file on disk, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// config + daemon

export interface TestConfig {
  dir: string;
  path: string;
  /** The local origin directory (`<dir>/media`). */
  media: string;
  cacheDir: string;
  chunksDir: string;
  lockFile: string;
  socket: string;
  dbPath: string;
}

/**
 * A fresh temp dir with its `config.json`: cache in `<dir>/cache`, one writable local origin
 * `<dir>/media`, quiet health rounds; `extra` is merged over the top level of that config.
 */
export async function freshConfig(extra: Record<string, unknown> = {}): Promise<TestConfig> {
  const dir = await tempDir();
  const media = join(dir, 'media');
  await mkdir(media, { recursive: true });
  const path = join(dir, 'config.json');
  const config = {
    cacheDir: 'cache',
    origins: [{ type: 'local', id: 'local', path: 'media' }],
    http: { port: 0 },
    // quiet background work: no surprise health rounds or evictions during a measurement
    health: { intervalMs: 5_000, timeoutMs: 2_000 },
    ...extra,
    // FAULTLINE_BREAK (faultline verify): the daemons this suite forks read it through their config.
    unsafe: { ...(extra.unsafe as Record<string, boolean> | undefined), ...brokenSwitches() },
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  const cacheDir = join(dir, 'cache');
  return {
    dir,
    path,
    media,
    cacheDir,
    chunksDir: join(cacheDir, 'chunks'),
    lockFile: join(cacheDir, 'media-cache.pid'),
    socket: join(cacheDir, 'control.sock'),
    dbPath: join(cacheDir, 'index.db'),
  };
}

/** Writes deterministic media files of `size` bytes into the config's local origin, one after another; SHA-256 by name. */
export async function writeMediaFiles(
  config: TestConfig,
  names: readonly string[],
  size: number,
): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  for (const name of names) sums.set(name, await writeMedia(config.media, name, size));
  return sums;
}

export interface Daemon {
  proc: ManagedProcess;
  ready: Readiness;
  pid: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
  control: string;
  /** Address of the failpoint HTTP control, when started with `failpointControl`. */
  failpoints: string | null;
  /** rlimits applied (spawnManaged with rlimits), when started with `limits`. */
  limited: LimitedProcess | null;
}

export interface StartOptions {
  /** FAILPOINTS for the daemon, e.g. `scan.batch=3*off->kill(SIGKILL)`. */
  failpoints?: string;
  /** Start failpoint HTTP control on a unix socket in the config dir (to read hit counts). */
  failpointControl?: boolean;
  /** Start under resource limits (spawnManaged with rlimits: posix preload, evidence recorded). */
  limits?: Rlimits;
  env?: Record<string, string>;
  name?: string;
  readyTimeoutMs?: number;
}

const daemons = new Set<ManagedProcess>();

/** Spawns the daemon through its bin without waiting for readiness (for refusal tests). */
export function launchDaemon(config: TestConfig, options: StartOptions = {}): ManagedProcess {
  const proc = spawnDaemon(config.path, { name: options.name ?? 'media-cache', env: daemonEnv(config, options) });
  daemons.add(proc);
  return proc;
}

function daemonEnv(config: TestConfig, options: StartOptions): Record<string, string> {
  const env: Record<string, string> = { ...options.env };
  if (options.failpoints !== undefined) env.FAILPOINTS = options.failpoints;
  if (options.failpointControl) env.FAILPOINTS_HTTP = join(config.dir, 'fp.sock');
  return env;
}

/** Starts the daemon via its bin and waits for its JSON readiness line on stdout. */
export async function startDaemon(config: TestConfig, options: StartOptions = {}): Promise<Daemon> {
  let proc: ManagedProcess;
  let limited: LimitedProcess | null = null;
  if (options.limits !== undefined) {
    limited = await spawnManaged({ node: MEDIA_CACHE_BIN }, serveArgs(config.path), {
      name: options.name ?? 'media-cache',
      env: daemonEnv(config, options),
      rlimits: options.limits,
    });
    proc = limited.proc;
    daemons.add(proc);
  } else {
    proc = launchDaemon(config, options);
  }
  const ready = await readiness(proc, options.readyTimeoutMs ?? 15_000);
  let failpoints: string | null = null;
  if (options.failpointControl) {
    failpoints = (await waitForLine(proc, /failpoints: http control on (\S+)/, { stream: 'stderr' }))[1]!;
  }
  return { proc, ready, pid: proc.pid, url: `http://${ready.http}`, control: ready.control, failpoints, limited };
}

/** Graceful stop without evidence (cleanup, not a fault): SIGTERM, then expect exit 0. */
export async function stopDaemon(d: Daemon | ManagedProcess, timeoutMs = 15_000): Promise<void> {
  const proc = 'proc' in d ? d.proc : d;
  if (!proc.running) return;
  proc.kill('SIGTERM', 'process');
  const exit = await waitForExit(proc, { timeoutMs });
  if (exit.code !== 0) throw new Error(`${proc.describe()} ${proc.describeExit()} on SIGTERM: ${proc.tail()}`);
}

/**
 * afterEach: when the test failed, print how every daemon it started ended and its last output
 * (a failure report then says whether the daemon crashed, was killed or never got the request);
 * stop whatever is still running; remove temp dirs.
 */
export async function cleanupDaemons(context?: { task?: { result?: { state?: string } } }): Promise<void> {
  const failed = context?.task?.result?.state === 'fail';
  for (const proc of daemons) {
    if (failed) {
      console.log(`[diagnostics] ${proc.describe()} ${proc.describeExit()}; last output:\n${proc.tail('both', 3000)}`);
    }
    if (proc.running) {
      proc.kill('SIGKILL', 'group');
      await proc.exited;
    }
  }
  daemons.clear();
  await cleanupTemps();
}

/**
 * The hooks every l2 test file registers (call once at its top level): the orphan guard (no child
 * process may outlive its test), then `afterEach(cleanupDaemons)`.
 */
export function useDaemonCleanup(): void {
  installOrphanGuard(afterEach);
  afterEach(cleanupDaemons);
}

/** Structured JSON log lines (stderr) of the daemon with `event`. */
export function logEvents(proc: ManagedProcess, event: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of proc.lines('stderr')) {
    if (!line.includes(`"event":"${event}"`)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not one of the daemon's JSON lines
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** HTTP over the daemon's control socket. */
export const control = controlRequest;

/** A subset of the control `GET /` status snapshot that the suite reads. */
export interface Status {
  pid: number;
  state: string;
  inflight: { http: number; control: number };
  cache: { bytes: number; chunks: number };
  httpCounters: {
    requests: number;
    responses2xx: number;
    responses5xx: number;
    fdExhausted: number;
    acceptErrors: number;
    streamAborts: number;
  };
  counters: Record<string, number>;
  actions: { queued: number; running: string | null; completed: number };
  startup: {
    stale: { previousPid: number | null; lockRemoved: boolean; socketRemoved: boolean };
    reconcile: {
      orphansDeleted: number;
      missingDropped: number;
      mismatchedDropped: number;
      tempFilesDeleted: number;
      straysDeleted: number;
    } | null;
  };
}

export async function status(d: Daemon | string): Promise<Status> {
  const res = await control(typeof d === 'string' ? d : d.control, 'GET', '/');
  if (res.status !== 200) throw new Error(`GET / on the control socket: ${res.status} ${res.text()}`);
  return res.json<Status>();
}

/** Hit count of a failpoint in the daemon (gofail-style HTTP control, `GET /NAME/count`). */
export async function failpointCount(d: Daemon, name: string): Promise<number> {
  if (d.failpoints === null) throw new Error('daemon was started without failpointControl');
  const res = await httpRequest(`http://failpoints/${name}/count`, { socketPath: d.failpoints });
  if (res.status !== 200) throw new Error(`GET /${name}/count: ${res.status} ${res.text()}`);
  return Number(res.text().trim());
}

/** Waits (bounded) until `probe` says yes; wraps crash's waitFor with the daemon as the watched process. */
export function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  d?: Daemon,
  timeoutMs = 10_000,
) {
  return waitFor(what, probe, { timeoutMs, intervalMs: 20, ...(d ? { process: d.proc } : {}) });
}

/**
 * Waits (bounded) until the daemon's status shows exactly `chunks` chunks cached (the snapshot may
 * lag a finished read by up to 50 ms); returns that status.
 */
export function untilChunksCached(d: Daemon, chunks: number, what = `${chunks} chunks cached`): Promise<Status> {
  return until(
    what,
    async () => {
      const now = await status(d);
      return now.cache.chunks === chunks && now;
    },
    d,
  );
}

// ---------------------------------------------------------------------------------------------
// disk inspection

/** Chunk files whose name is not the SHA-256 of their content (a visible partial chunk). */
export function badChunkNames(chunksDir: string): string[] {
  return listChunkFiles(chunksDir)
    .filter((f) => /^[0-9a-f]{64}$/.test(f.name) && sha256(readFileSync(f.path)) !== f.name)
    .map((f) => f.path);
}

export interface WatchedGet {
  /** Resolves with the status once the response headers arrived. */
  headers: Promise<number>;
  /** Settles when the exchange ended: a complete body, or how it failed. Never rejects. */
  done: Promise<{ ok: boolean; status: number; bytes: number; sha256: string; error: string | null; ms: number }>;
}

/**
 * A GET whose progress can be watched: `headers` (status line in) and `done` (body complete or
 * failed: connection refused, reset, cut short, timed out). The body is hashed as it streams, not
 * kept; `timeoutMs` bounds the longest silence, so a long transfer that keeps moving is not cut.
 */
export function watchedGet(url: string, timeoutMs = 20_000): WatchedGet {
  let onHead: (status: number) => void = () => {};
  let noHead: (error: Error) => void = () => {};
  const headers = new Promise<number>((resolve, reject) => {
    onHead = resolve;
    noHead = reject;
  });
  headers.catch(() => {});
  const options = { timeoutMs, timeoutKind: 'idle' as const, keepBody: false, onHead: (s: number) => onHead(s) };
  const done = getObserved(url, options).then((f) => {
    const error = f.error ?? (f.complete ? null : `body cut at ${f.bytes} of ${f.contentLength} bytes`);
    if (error !== null) noHead(new Error(error)); // no-op once the head arrived
    return { ok: f.complete, status: f.status, bytes: f.bytes, sha256: f.sha256, error, ms: f.ms };
  });
  return { headers, done };
}
