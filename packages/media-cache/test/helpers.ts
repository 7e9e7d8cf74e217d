// The unit tests' helpers: an fs whose operations fail on demand, and thin adapters over the
// shared test support (media-cache-test-support) where these tests read a result in their own shape.
import * as nodeFs from 'node:fs/promises';
import {
  diskFiles,
  StaticOrigin as SharedOrigin,
  controlRequest as sharedControlRequest,
} from 'media-cache-test-support';
import type { FsLike } from '../src/index.ts';

export { cleanupTemps, type OriginMode, refusedPort, tempDir, waitFor } from 'media-cache-test-support';

export interface FsFault {
  op: keyof FsLike | 'write' | 'sync';
  code: string;
  /** Only paths containing this substring. */
  match?: string;
  /** Fire this many times, then stop (default: forever). */
  times?: number;
  /** Hang instead of failing. */
  hang?: boolean;
}

/**
 * Wraps the real fs/promises: configured operations fail with an errno code (or hang). Writes
 * and fsyncs on file handles opened through it can fail too. `hits` counts injected faults.
 */
export function faultyFs(faults: FsFault[] = []): FsLike & { faults: FsFault[]; hits: number } {
  const state = { faults, hits: 0 };
  const check = (op: FsFault['op'], path: string): Promise<never> | null => {
    for (const f of state.faults) {
      if (f.op !== op || (f.match !== undefined && !path.includes(f.match))) continue;
      if (f.times !== undefined) {
        if (f.times <= 0) continue;
        f.times -= 1;
      }
      state.hits += 1;
      if (f.hang) return new Promise<never>(() => {});
      return Promise.reject(Object.assign(new Error(`${f.code}: injected on ${op} ${path}`), { code: f.code }));
    }
    return null;
  };
  const wrap =
    <A extends unknown[], R>(op: keyof FsLike, fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      check(op, String(args[0])) ?? fn(...args);
  const fs = {
    open: async (path: Parameters<typeof nodeFs.open>[0], flags?: string | number, mode?: number) => {
      const injected = check('open', String(path));
      if (injected) return injected;
      const handle = await nodeFs.open(path, flags, mode);
      const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<unknown>;
      const sync = handle.sync.bind(handle);
      Object.assign(handle, {
        write: (...a: unknown[]) => check('write', String(path)) ?? write(...a),
        sync: () => check('sync', String(path)) ?? sync(),
      });
      return handle;
    },
    readFile: wrap('readFile', nodeFs.readFile),
    rename: wrap('rename', nodeFs.rename),
    unlink: wrap('unlink', nodeFs.unlink),
    mkdir: wrap('mkdir', nodeFs.mkdir),
    readdir: wrap('readdir', nodeFs.readdir),
    stat: wrap('stat', nodeFs.stat),
    rm: wrap('rm', nodeFs.rm),
    access: wrap('access', nodeFs.access),
  } as unknown as FsLike;
  Object.defineProperties(fs, {
    faults: { get: () => state.faults },
    hits: { get: () => state.hits },
  });
  return fs as FsLike & { faults: FsFault[]; hits: number };
}

/** A plain static file server (GET/HEAD with Range) whose behaviour a test can switch; `requests` counts. */
export class StaticOrigin extends SharedOrigin {
  get requests(): number {
    return this.log.length;
  }
}

export function startStaticOrigin(root: string, port = 0): Promise<StaticOrigin> {
  return new StaticOrigin(diskFiles(root)).listen(port);
}

export interface SimpleResponse {
  status: number;
  body: string;
  json: () => unknown;
}

/** One HTTP request over the control socket, bounded by `timeoutMs`; the body as text. */
export async function controlRequest(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs = 10_000,
): Promise<SimpleResponse> {
  const reply = await sharedControlRequest(socketPath, method, path, timeoutMs);
  return { status: reply.status, body: reply.text(), json: () => reply.json() };
}

/** fetch with a bound, returning status + body bytes. */
export async function get(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, headers: res.headers };
}
