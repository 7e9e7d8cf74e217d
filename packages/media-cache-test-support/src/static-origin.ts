// A real loopback HTTP origin of the kind media-cache reads: GET/HEAD of a file with one `Range`
// (206, or 416 when unsatisfiable), `/healthz`, and `/list` when its files can be listed. A test can
// switch its behaviour at runtime (`mode`) and read which requests it received (`log`).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { OriginFile, OriginFiles } from './origin-files.ts';

/** `hang`: accept the request and never answer; `reset-mid-body`: send half the body, then reset. */
export type OriginMode = 'ok' | 'hang' | 'reset-mid-body' | 'error-500';

export interface OriginRequest {
  method: string;
  /** Decoded URL path, e.g. `/files/a.bin`. */
  path: string;
  /** First byte of a Range request, or null. */
  start: number | null;
  at: number;
}

export interface StaticOriginOptions {
  /** URL path under which files are served: `/` (default, media-cache's `filesPrefix: ''`) or `/files/`. */
  filesPrefix?: string;
}

const RANGE = /^bytes=(\d+)-(\d*)$/;

async function serveFile(req: IncomingMessage, res: ServerResponse, file: OriginFile, mode: OriginMode): Promise<void> {
  const range = RANGE.exec(String(req.headers.range ?? ''));
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), file.size - 1) : file.size - 1;
  if (range && (start > end || start >= file.size)) {
    res.writeHead(416, { 'content-range': `bytes */${file.size}` }).end();
    return;
  }
  res.writeHead(range ? 206 : 200, {
    'accept-ranges': 'bytes',
    'content-type': 'application/octet-stream',
    'content-length': Math.max(0, end - start + 1),
    'last-modified': new Date(file.mtimeMs).toUTCString(),
    'x-mtime-ms': String(file.mtimeMs),
    ...(range ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {}),
  });
  if (req.method === 'HEAD' || file.size === 0) res.end();
  else if (mode === 'reset-mid-body') {
    const half = await file.slice(start, start + Math.max(1, Math.floor((end - start + 1) / 2)) - 1);
    res.write(half, () => res.socket?.destroy());
  } else if (file.stream) file.stream(start, end).pipe(res);
  else res.end(await file.slice(start, end));
}

function handler(origin: StaticOrigin, files: OriginFiles, filesPrefix: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://origin.invalid').pathname);
    const range = RANGE.exec(String(req.headers.range ?? ''));
    origin.log.push({
      method: req.method ?? 'GET',
      path,
      start: range ? Number(range[1]) : null,
      at: performance.now(),
    });
    if (origin.mode === 'hang') {
      origin.onHang?.(req);
      return; // never answers; close() destroys the socket
    }
    if (origin.mode === 'error-500') res.writeHead(500).end('broken on purpose');
    else if (path === '/healthz') res.writeHead(200).end('ok');
    else if (path === '/list' && files.list) {
      const body = JSON.stringify({ entries: files.list(), next: null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    } else {
      const file = path.startsWith(filesPrefix) ? await files.get(path.slice(filesPrefix.length)) : null;
      if (file === null) res.writeHead(404).end('not found');
      else await serveFile(req, res, file, origin.mode);
    }
  };
}

/**
 * An origin on 127.0.0.1 serving `files`: construct, then `listen()`.
 * A suite that reads the request log in its own shape extends it with a `requests` getter.
 */
export class StaticOrigin {
  url = '';
  port = 0;
  mode: OriginMode = 'ok';
  /** Every request received, in order (a test may clear it). */
  readonly log: OriginRequest[] = [];
  /** Called when a request arrives in `hang` mode (the fault really happened). */
  onHang: ((req: IncomingMessage) => void) | null = null;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #closed: Promise<void> | null = null;

  constructor(files: OriginFiles, options: StaticOriginOptions = {}) {
    const handle = handler(this, files, options.filesPrefix ?? '/');
    // A failed read (the file removed mid-request) cuts the exchange; the client sees that.
    this.#server = createServer((req, res) => void handle(req, res).catch((error: Error) => res.destroy(error)));
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Listens on `port` (default 0: any free port). */
  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** Destroys open connections and closes the server; idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const s of this.#sockets) s.destroy();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }
}

/** A loopback port nothing listens on (connections are refused). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
