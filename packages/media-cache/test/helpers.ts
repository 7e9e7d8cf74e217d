import { createReadStream } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FsLike } from '../src/index.ts';

/** Temp dirs created by a test file, removed by `cleanupTemps` (call it in afterEach/afterAll). */
const temps: string[] = [];

export async function tempDir(prefix = 'mc-'): Promise<string> {
  // Short paths: unix socket paths must stay under 108 bytes.
  const dir = await nodeFs.mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export async function cleanupTemps(): Promise<void> {
  for (const dir of temps.splice(0)) await nodeFs.rm(dir, { recursive: true, force: true });
}

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

export type OriginMode = 'ok' | 'hang' | 'reset-mid-body' | 'error-500';

export interface StaticOrigin {
  url: string;
  port: number;
  mode: OriginMode;
  requests: number;
  close(): Promise<void>;
}

/** A plain static file server (GET/HEAD with Range) whose behaviour a test can switch. */
export async function startStaticOrigin(root: string, port = 0): Promise<StaticOrigin> {
  const sockets = new Set<Socket>();
  const origin: StaticOrigin = { url: '', port: 0, mode: 'ok', requests: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    origin.requests += 1;
    if (origin.mode === 'hang') return; // never answers
    if (origin.mode === 'error-500') {
      res.writeHead(500).end('broken');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    const path = join(root, decodeURIComponent(url.pathname.replace(/^\/files\//, '')));
    const st = await nodeFs.stat(path).catch(() => null);
    if (st === null || !st.isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1;
    res.writeHead(m ? 206 : 200, {
      'content-length': end - start + 1,
      'last-modified': st.mtime.toUTCString(),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (origin.mode === 'reset-mid-body') {
      const half = Math.max(1, Math.floor((end - start + 1) / 2));
      const fh = await nodeFs.open(path, 'r');
      const buf = Buffer.alloc(half);
      await fh.read(buf, 0, half, start);
      await fh.close();
      res.write(buf, () => res.socket?.destroy());
      return;
    }
    createReadStream(path, { start, end }).pipe(res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  origin.port = (server.address() as AddressInfo).port;
  origin.url = `http://127.0.0.1:${origin.port}`;
  origin.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return origin;
}

/** A loopback port nothing listens on (connection refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SimpleResponse {
  status: number;
  body: string;
  json: () => unknown;
}

/** One HTTP request over the control socket, bounded by `timeoutMs`. */
export function controlRequest(
  socketPath: string,
  method: string,
  path: string,
  timeoutMs = 10_000,
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const body = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(new Error(`control request ${method} ${path} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
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

/** Polls `predicate` every 10 ms until true or `timeoutMs` passes (then throws, naming `what`). */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
