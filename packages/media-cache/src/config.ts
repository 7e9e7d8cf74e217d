import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/** One origin as written in the config file. */
export type OriginConfig =
  | { id: string; type: 'local'; path: string; priority: number; writable: boolean }
  | {
      id: string;
      type: 'http';
      url: string;
      priority: number;
      /** Path prefix under which files live (`/files` for another media-cache, `` for a static server). */
      filesPrefix: string;
      healthPath: string;
      listPath: string;
    };

/**
 * Test-only switches that turn protections OFF, so a suite can show its matrix cell turns red
 * when the protection is gone. All default to `false` (every protection on). Never set them in
 * production.
 */
export interface UnsafeConfig {
  /** Serve cached chunks without checking their SHA-256 (chunk-corruption). */
  skipChunkVerify: boolean;
  /** Insert the index row before the chunk file is renamed into place (atomic-chunk). */
  indexBeforeChunkRename: boolean;
  /** Checkpoint writes overwrite instead of merging with max-per-key (checkpoint-monotonic, scan-resume). */
  nonMonotonicCheckpoint: boolean;
  /** Health checks run one after another instead of in parallel (health-parallel). */
  serialHealthChecks: boolean;
  /** Control `GET /` goes through the serial action queue instead of the snapshot (api-fast-path). */
  statusThroughQueue: boolean;
  /** Disable the per-read origin deadline (read-timeout). */
  noReadDeadline: boolean;
  /** Enable `PUT /actions/raise` which throws an uncaught exception / unhandled rejection (panic-hook). */
  allowRaise: boolean;
  /** Rename a chunk temp file into place without fsyncing its data first (atomic-chunk; only a power loss shows it). */
  skipChunkFsync: boolean;
  /** Rename a checkpoint temp file into place without fsyncing its data first (scan-resume, checkpoint-monotonic). */
  skipCheckpointFsync: boolean;
  /** No directory fsync after a chunk's or a checkpoint's rename (atomic-chunk, scan-resume, checkpoint-monotonic). */
  skipDirFsync: boolean;
  /** Write a chunk straight under its final name, no temp file and rename (atomic-chunk). */
  chunkInPlace: boolean;
  /** The uncaught-fault handler exits before its log line is written (panic-hook). */
  exitBeforeUncaughtLog: boolean;
  /** Open the SQLite index without `PRAGMA integrity_check`: a damaged index is used as it is (cache-integrity). */
  skipIndexIntegrityCheck: boolean;
  /** A critical background task that throws is marked failed instead of restarted (task-supervisor). */
  noTaskRestart: boolean;
  /** A failed chunk write (ENOSPC, EIO) fails the read instead of being contained and served from the origin (disk-full). */
  uncontainedWriteErrors: boolean;
  /** Ask the origins for a file's size and version on every read, even when the index knows it (offline-mode). */
  alwaysStatOrigin: boolean;
  /** A read tries only the first healthy origin: a failing primary is not failed over within the read (origin-failover). */
  noFailover: boolean;
  /** Start without reconciling the index against the chunk files (restart-reconcile). */
  skipStartupReconcile: boolean;
  /** Shutdown closes the database before draining in-flight reads (shutdown-order, sig-term). */
  dbBeforeDrain: boolean;
  /** An existing lock file is taken as a live instance: a lock left by a killed instance blocks the next start (stale-socket). */
  noStaleCleanup: boolean;
  /** Origin reads go one at a time through one lock: a slow read makes every other read wait (event-loop-stall). */
  serialOriginReads: boolean;
  /** Stream file bytes without waiting for the client to take them: a slow reader makes the daemon buffer the whole response (stream-memory, slow-client). */
  noBackpressure: boolean;
  /** An HTTP origin body cut short (reset, early end) is taken as the whole chunk instead of an error (upstream-reset). */
  acceptShortOriginBody: boolean;
  /** Running out of file descriptors (EMFILE) answers 500 like any internal error instead of 503 with Retry-After (fd-exhaustion). */
  fdExhaustionAs500: boolean;
  /** An interrupted origin scan starts over as a new scan instead of resuming from its checkpoint (scan-resume). */
  scanFromStart: boolean;
}

export interface MediaCacheConfig {
  /** Chunk files (`<cacheDir>/chunks/ab/abcd…`). */
  cacheDir: string;
  /** Instance lock, checkpoint file; defaults to `cacheDir`. */
  stateDir: string;
  /** SQLite index; defaults to `<stateDir>/index.db`. */
  dbPath: string;
  /** Checkpoint store; defaults to `<stateDir>/checkpoints.json`. */
  checkpointPath: string;
  http: { host: string; port: number; idleTimeoutMs: number };
  control: { socket: string };
  origins: OriginConfig[];
  cache: {
    chunkSize: number;
    maxBytes: number;
    /** Fractions of maxBytes: background eviction starts above high, stops at low. */
    highWatermark: number;
    lowWatermark: number;
    /** How often passthrough mode probes the cache dir to come back. */
    probeIntervalMs: number;
  };
  timeouts: {
    /** Deadline for fetching one chunk from the origins (all failover attempts together). */
    readMs: number;
    /** Deadline for one attempt against one origin; a timed out attempt fails over to the next origin. */
    attemptMs: number;
    /** Drain deadline on shutdown; requests still running after it are aborted. */
    drainMs: number;
    /** Default deadline of a mutating control action. */
    actionMs: number;
  };
  health: { intervalMs: number; timeoutMs: number };
  scan: { batchSize: number; intervalMs: number };
  supervisor: { backoffInitialMs: number; backoffMaxMs: number; maxRestarts: number };
  /** What the uncaughtException/unhandledRejection handlers do after logging. */
  onUncaught: 'exit' | 'continue';
  unsafe: UnsafeConfig;
}

export const DEFAULT_UNSAFE: UnsafeConfig = Object.freeze({
  skipChunkVerify: false,
  indexBeforeChunkRename: false,
  nonMonotonicCheckpoint: false,
  serialHealthChecks: false,
  statusThroughQueue: false,
  noReadDeadline: false,
  allowRaise: false,
  skipChunkFsync: false,
  skipCheckpointFsync: false,
  skipDirFsync: false,
  chunkInPlace: false,
  exitBeforeUncaughtLog: false,
  skipIndexIntegrityCheck: false,
  noTaskRestart: false,
  uncontainedWriteErrors: false,
  alwaysStatOrigin: false,
  noFailover: false,
  skipStartupReconcile: false,
  dbBeforeDrain: false,
  noStaleCleanup: false,
  serialOriginReads: false,
  noBackpressure: false,
  acceptShortOriginBody: false,
  fdExhaustionAs500: false,
  scanFromStart: false,
});

/** Input accepted by `resolveConfig`: everything but `cacheDir` is optional. */
export type MediaCacheConfigInput = {
  cacheDir: string;
  stateDir?: string;
  dbPath?: string;
  checkpointPath?: string;
  http?: Partial<MediaCacheConfig['http']>;
  control?: Partial<MediaCacheConfig['control']>;
  origins?: Array<Partial<OriginConfig> & { type: 'local' | 'http' }>;
  cache?: Partial<MediaCacheConfig['cache']>;
  timeouts?: Partial<MediaCacheConfig['timeouts']>;
  health?: Partial<MediaCacheConfig['health']>;
  scan?: Partial<MediaCacheConfig['scan']>;
  supervisor?: Partial<MediaCacheConfig['supervisor']>;
  onUncaught?: 'exit' | 'continue';
  unsafe?: Partial<UnsafeConfig>;
};

/** A config problem: names the file (when there is one), the field, and what to do. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly file: string | null;
  readonly field: string | null;
  constructor(file: string | null, field: string | null, problem: string) {
    const where = [file, field === null ? null : `field "${field}"`].filter((p) => p !== null).join(': ');
    super(where === '' ? problem : `${where}: ${problem}`);
    this.file = file;
    this.field = field;
  }
}

type Obj = Record<string, unknown>;

class Reader {
  readonly file: string | null;
  readonly baseDir: string;
  constructor(file: string | null, baseDir: string) {
    this.file = file;
    this.baseDir = baseDir;
  }
  fail(field: string, problem: string): never {
    throw new ConfigError(this.file, field, problem);
  }
  object(value: unknown, field: string): Obj {
    if (value === undefined) return {};
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(field, `expected an object, got ${describe(value)}`);
    }
    return value as Obj;
  }
  known(obj: Obj, field: string, keys: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!keys.includes(key)) {
        const path = field === '' ? key : `${field}.${key}`;
        this.fail(path, `unknown field; expected one of: ${keys.join(', ')}`);
      }
    }
  }
  int(obj: Obj, key: string, field: string, fallback: number, min = 0): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.fail(
        `${field}${key}`,
        `expected an integer >= ${min}, got ${describe(value)}; fix it or remove the field to use the default (${fallback})`,
      );
    }
    return value;
  }
  fraction(obj: Obj, key: string, field: string, fallback: number): number {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
      this.fail(`${field}${key}`, `expected a number in (0, 1], got ${describe(value)}`);
    }
    return value;
  }
  string(obj: Obj, key: string, field: string, fallback?: string): string {
    const value = obj[key];
    if (value === undefined) {
      if (fallback === undefined) this.fail(`${field}${key}`, 'is required');
      return fallback;
    }
    if (typeof value !== 'string') this.fail(`${field}${key}`, `expected a string, got ${describe(value)}`);
    return value;
  }
  path(obj: Obj, key: string, field: string, fallback?: string): string {
    const value = this.string(obj, key, field, fallback);
    if (value === '') this.fail(`${field}${key}`, 'must not be empty');
    return isAbsolute(value) ? value : resolve(this.baseDir, value);
  }
  bool(obj: Obj, key: string, field: string, fallback: boolean): boolean {
    const value = obj[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(`${field}${key}`, `expected true or false, got ${describe(value)}`);
    return value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const TOP_KEYS = [
  'cacheDir',
  'stateDir',
  'dbPath',
  'checkpointPath',
  'http',
  'control',
  'origins',
  'cache',
  'timeouts',
  'health',
  'scan',
  'supervisor',
  'onUncaught',
  'unsafe',
] as const;

/**
 * Validates and fills defaults. `file` (when the input came from a file) is named in errors,
 * and relative paths resolve against the file's directory (else the working directory).
 */
export function resolveConfig(input: unknown, file: string | null = null): MediaCacheConfig {
  const r: Reader = new Reader(file, file === null ? process.cwd() : dirname(resolve(file)));
  const top = r.object(input, '(top level)');
  r.known(top, '', TOP_KEYS);
  const cacheDir = r.path(top, 'cacheDir', '');
  const stateDir = r.path(top, 'stateDir', '', cacheDir);
  const dbPath = r.path(top, 'dbPath', '', join(stateDir, 'index.db'));
  const checkpointPath = r.path(top, 'checkpointPath', '', join(stateDir, 'checkpoints.json'));

  const http = r.object(top.http, 'http');
  r.known(http, 'http', ['host', 'port', 'idleTimeoutMs']);
  const port = r.int(http, 'port', 'http.', 0);
  if (port > 65535) r.fail('http.port', `expected 0..65535, got ${port}`);

  const control = r.object(top.control, 'control');
  r.known(control, 'control', ['socket']);
  const socket = r.path(control, 'socket', 'control.', join(stateDir, 'control.sock'));
  // sun_path is 108 bytes on Linux: fail here with a clear message rather than EINVAL at bind time.
  if (Buffer.byteLength(socket) > 107) {
    r.fail('control.socket', `path is ${Buffer.byteLength(socket)} bytes; unix sockets allow at most 107`);
  }

  const originsRaw: unknown = top.origins ?? [];
  if (!Array.isArray(originsRaw)) r.fail('origins', `expected an array, got ${describe(originsRaw)}`);
  const ids = new Set<string>();
  const origins = (originsRaw as unknown[]).map((raw, i): OriginConfig => {
    const field = `origins[${i}]`;
    const o = r.object(raw, field);
    const type = o.type;
    const id = r.string(o, 'id', `${field}.`, `origin-${i}`);
    if (!/^[A-Za-z0-9_-]+$/.test(id)) r.fail(`${field}.id`, `"${id}" may only contain letters, digits, _ and -`);
    if (ids.has(id)) r.fail(`${field}.id`, `duplicate origin id "${id}"`);
    ids.add(id);
    const priority = r.int(o, 'priority', `${field}.`, i);
    if (type === 'local') {
      r.known(o, field, ['id', 'type', 'path', 'priority', 'writable']);
      return {
        id,
        type,
        path: r.path(o, 'path', `${field}.`),
        priority,
        writable: r.bool(o, 'writable', `${field}.`, true),
      };
    }
    if (type === 'http') {
      r.known(o, field, ['id', 'type', 'url', 'priority', 'filesPrefix', 'healthPath', 'listPath']);
      const url = r.string(o, 'url', `${field}.`);
      const parsed = URL.parse(url) ?? r.fail(`${field}.url`, `"${url}" is not a valid URL`);
      if (parsed.protocol !== 'http:') r.fail(`${field}.url`, `only http: URLs are supported, got ${parsed.protocol}`);
      return {
        id,
        type,
        url: url.replace(/\/+$/, ''),
        priority,
        filesPrefix: r.string(o, 'filesPrefix', `${field}.`, '/files').replace(/\/+$/, ''),
        healthPath: r.string(o, 'healthPath', `${field}.`, '/healthz'),
        listPath: r.string(o, 'listPath', `${field}.`, '/list'),
      };
    }
    return r.fail(`${field}.type`, `expected "local" or "http", got ${describe(type)}`);
  });

  const cache = r.object(top.cache, 'cache');
  r.known(cache, 'cache', ['chunkSize', 'maxBytes', 'highWatermark', 'lowWatermark', 'probeIntervalMs']);
  const highWatermark = r.fraction(cache, 'highWatermark', 'cache.', 0.9);
  const lowWatermark = r.fraction(cache, 'lowWatermark', 'cache.', 0.7);
  if (lowWatermark > highWatermark) {
    r.fail('cache.lowWatermark', `(${lowWatermark}) must not exceed cache.highWatermark (${highWatermark})`);
  }

  const timeouts = r.object(top.timeouts, 'timeouts');
  r.known(timeouts, 'timeouts', ['readMs', 'attemptMs', 'drainMs', 'actionMs']);
  const readMs = r.int(timeouts, 'readMs', 'timeouts.', 10_000, 1);

  const health = r.object(top.health, 'health');
  r.known(health, 'health', ['intervalMs', 'timeoutMs']);
  const scan = r.object(top.scan, 'scan');
  r.known(scan, 'scan', ['batchSize', 'intervalMs']);
  const supervisor = r.object(top.supervisor, 'supervisor');
  r.known(supervisor, 'supervisor', ['backoffInitialMs', 'backoffMaxMs', 'maxRestarts']);

  const onUncaught: unknown = top.onUncaught ?? 'exit';
  if (onUncaught !== 'exit' && onUncaught !== 'continue') {
    r.fail('onUncaught', `expected "exit" or "continue", got ${describe(onUncaught)}`);
  }

  const unsafeRaw = r.object(top.unsafe, 'unsafe');
  const unsafeKeys = Object.keys(DEFAULT_UNSAFE) as Array<keyof UnsafeConfig>;
  r.known(unsafeRaw, 'unsafe', unsafeKeys);
  const unsafe = { ...DEFAULT_UNSAFE };
  for (const key of unsafeKeys) unsafe[key] = r.bool(unsafeRaw, key, 'unsafe.', false);

  return {
    cacheDir,
    stateDir,
    dbPath,
    checkpointPath,
    http: {
      host: r.string(http, 'host', 'http.', '127.0.0.1'),
      port,
      idleTimeoutMs: r.int(http, 'idleTimeoutMs', 'http.', 60_000, 1),
    },
    control: { socket },
    origins,
    cache: {
      chunkSize: r.int(cache, 'chunkSize', 'cache.', 1024 * 1024, 1),
      maxBytes: r.int(cache, 'maxBytes', 'cache.', 1024 * 1024 * 1024, 1),
      highWatermark,
      lowWatermark,
      probeIntervalMs: r.int(cache, 'probeIntervalMs', 'cache.', 5_000, 1),
    },
    timeouts: {
      readMs,
      attemptMs: r.int(timeouts, 'attemptMs', 'timeouts.', readMs, 1),
      drainMs: r.int(timeouts, 'drainMs', 'timeouts.', 5_000, 0),
      actionMs: r.int(timeouts, 'actionMs', 'timeouts.', 30_000, 1),
    },
    health: {
      intervalMs: r.int(health, 'intervalMs', 'health.', 1_000, 1),
      timeoutMs: r.int(health, 'timeoutMs', 'health.', 2_000, 1),
    },
    scan: {
      batchSize: r.int(scan, 'batchSize', 'scan.', 100, 1),
      intervalMs: r.int(scan, 'intervalMs', 'scan.', 0, 0),
    },
    supervisor: {
      backoffInitialMs: r.int(supervisor, 'backoffInitialMs', 'supervisor.', 100, 1),
      backoffMaxMs: r.int(supervisor, 'backoffMaxMs', 'supervisor.', 5_000, 1),
      maxRestarts: r.int(supervisor, 'maxRestarts', 'supervisor.', 10, 0),
    },
    onUncaught,
    unsafe,
  };
}

/**
 * Test-only: the `unsafe` switches named in FAULTLINE_BREAK (comma-separated, as `faultline verify`
 * sets it), each set to true, for a suite to merge into every config it starts media-cache with.
 * Unknown names are an error (a typo must not leave every protection on).
 */
export function unsafeFromBreaks(value: string | undefined = process.env.FAULTLINE_BREAK): Partial<UnsafeConfig> {
  const known = Object.keys(DEFAULT_UNSAFE) as Array<keyof UnsafeConfig>;
  const out: Partial<UnsafeConfig> = {};
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(known as string[]).includes(name)) {
      throw new Error(`FAULTLINE_BREAK: unknown switch "${name}"; media-cache's unsafe switches: ${known.join(', ')}`);
    }
    out[name as keyof UnsafeConfig] = true;
  }
  return out;
}

/** Reads and validates a JSON config file; every problem is a ConfigError naming the file. */
export function loadConfigFile(file: string): MediaCacheConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    throw new ConfigError(file, null, `cannot read the config file (${code}); pass an existing JSON file to --config`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, null, `is not valid JSON: ${(error as Error).message}`);
  }
  return resolveConfig(parsed, file);
}
