import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChunkLease } from './buffer-pool.ts';
import type { ReadThroughCache } from './cache.ts';
import { errorMessage, httpStatusFor, isFdExhaustion, RequestError, ShuttingDownError } from './errors.ts';
import { InflightTracker } from './inflight.ts';
import type { Logger } from './log.ts';
import { normalizeFilePath } from './paths.ts';
import { parseRange } from './range.ts';

export interface HttpCounters {
  requests: number;
  responses2xx: number;
  responses4xx: number;
  responses5xx: number;
  /** Responses cut off after their headers were sent (origin failed mid-stream, shutdown). */
  streamAborts: number;
  fdExhausted: number;
  acceptErrors: number;
}

export interface DataServerOptions {
  cache: ReadThroughCache;
  log: Logger;
  /** A connection idle this long (stalled client) is closed, so it cannot pin resources forever. */
  idleTimeoutMs: number;
  /** Status fields for /healthz. */
  health: () => { offline: boolean; passthrough: boolean };
  /** unsafe (test-only): `noBackpressure`, `fdExhaustionAs500`. */
  unsafe?: { noBackpressure?: boolean; fdExhaustionAs500?: boolean };
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** Writes `data` and resolves once it is flushed to the socket; rejects if the client goes away. */
function writeFlushed(res: ServerResponse, data: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      res.off('close', onClose);
      signal.removeEventListener('abort', onClose);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('client went away while the response was streaming'));
    };
    res.on('close', onClose);
    signal.addEventListener('abort', onClose, { once: true });
    res.write(data, (error) => {
      cleanup();
      if (error) reject(error);
      else resolve();
    });
  });
}

/**
 * `GET|HEAD /files/<path>` (Range: 206/416), `PUT /files/<path>`, `GET /list`, `GET /healthz`.
 * Responses stream chunk by chunk with backpressure: at most one chunk per request in memory.
 */
export class DataServer {
  readonly server: Server;
  readonly inflight = new InflightTracker();
  readonly counters: HttpCounters = {
    requests: 0,
    responses2xx: 0,
    responses4xx: 0,
    responses5xx: 0,
    streamAborts: 0,
    fdExhausted: 0,
    acceptErrors: 0,
  };
  readonly #options: DataServerOptions;
  #closing = false;

  constructor(options: DataServerOptions) {
    this.#options = options;
    this.server = createServer((req, res) => this.#handle(req, res));
    this.server.timeout = options.idleTimeoutMs;
    this.server.keepAliveTimeout = 5_000;
    // EMFILE on accept arrives here; without a listener it would crash the process.
    this.server.on('error', (error) => {
      this.counters.acceptErrors += 1;
      if (isFdExhaustion(error)) this.counters.fdExhausted += 1;
      options.log.log('error', 'http-server-error', { error });
    });
    this.server.on('clientError', (error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
      else socket.destroy();
      void error;
    });
  }

  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new Error(`cannot listen on http://${host}:${port}: ${errorMessage(error)}`, { cause: error }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`${h}:${address.port}`);
      });
    });
  }

  /** Stops accepting and closes idle keep-alive connections; in-flight requests continue. */
  stopAccepting(): void {
    this.#closing = true;
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Waits for in-flight requests up to `deadlineMs`, then aborts the rest; returns how many were aborted. */
  async drain(deadlineMs: number): Promise<number> {
    const drained = await this.inflight.drain(deadlineMs);
    let aborted = 0;
    if (!drained) {
      aborted = this.inflight.abortAll(new ShuttingDownError());
      await this.inflight.drain(1_000);
    }
    this.server.closeAllConnections();
    return aborted;
  }

  #count(status: number): void {
    if (status >= 500) this.counters.responses5xx += 1;
    else if (status >= 400) this.counters.responses4xx += 1;
    else this.counters.responses2xx += 1;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests += 1;
    const flight = this.inflight.begin(res);
    res.on('finish', () => this.#count(res.statusCode));
    try {
      if (this.#closing) res.setHeader('connection', 'close');
      const url = new URL(req.url ?? '/', 'http://media-cache.invalid');
      const method = req.method ?? 'GET';
      if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
        sendJson(res, 200, { ok: true, ...this.#options.health() });
        return;
      }
      if (url.pathname === '/list' && method === 'GET') {
        const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), 10_000);
        const { value } = await this.#options.cache.pool.list(url.searchParams.get('after'), limit, flight.signal);
        sendJson(res, 200, value);
        return;
      }
      if (url.pathname.startsWith('/files/')) {
        const path = normalizeFilePath(url.pathname.slice('/files/'.length));
        if (method === 'GET' || method === 'HEAD') {
          await this.#serveFile(req, res, path, method === 'HEAD', flight.signal);
          return;
        }
        if (method === 'PUT') {
          if (this.#closing) throw new ShuttingDownError();
          const result = await this.#options.cache.upload(path, req, flight.signal);
          sendJson(res, 201, { path, ...result });
          return;
        }
        throw new RequestError(405, `${method} is not supported on /files/; use GET, HEAD or PUT`);
      }
      throw new RequestError(404, `no route for ${method} ${url.pathname}; try GET /files/<path> or GET /healthz`);
    } catch (error) {
      this.#fail(req, res, error);
    }
  }

  async #serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    head: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const cache = this.#options.cache;
    const file = await cache.fileInfo(path, signal);
    const range = parseRange(req.headers.range, file.size);
    const headers: Record<string, string | number> = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'last-modified': new Date(file.mtimeMs).toUTCString(),
      'x-mtime-ms': String(file.mtimeMs),
    };
    if (range.kind === 'unsatisfiable') {
      sendJson(
        res,
        416,
        { error: `range "${req.headers.range}" is outside the file (${file.size} bytes)` },
        { 'content-range': `bytes */${file.size}` },
      );
      return;
    }
    const start = range.kind === 'partial' ? range.start : 0;
    const end = range.kind === 'partial' ? range.end : file.size - 1;
    const status = range.kind === 'partial' ? 206 : 200;
    headers['content-length'] = end - start + 1;
    if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${file.size}`;
    if (head || file.size === 0) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const size = cache.chunkSize;
    const firstIdx = Math.floor(start / size);
    const lastIdx = Math.floor(end / size);
    // The first chunk is fetched before the headers go out, so its failure is still a clean 5xx.
    let held: ChunkLease | null = await cache.chunk(file, firstIdx, signal);
    res.writeHead(status, headers);
    for (let idx = firstIdx; idx <= lastIdx; idx++) {
      held ??= await cache.chunk(file, idx, signal);
      const base = idx * size;
      const slice = held.data.subarray(Math.max(start - base, 0), Math.min(end + 1 - base, held.data.byteLength));
      // Wait until the socket has taken the bytes: that is the backpressure, and only then may the
      // pooled buffer be reused. On abort the buffer is left to the GC (a write may still hold it).
      if (this.#options.unsafe?.noBackpressure) {
        res.write(Buffer.from(slice)); // a copy: the pooled buffer is reused at once, the socket queues the rest
      } else await writeFlushed(res, slice, signal);
      held.release();
      held = null;
    }
    res.end();
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const fdExhausted = isFdExhaustion(error) || (error as { kind?: string }).kind === 'fd-exhausted';
    const status = fdExhausted && this.#options.unsafe?.fdExhaustionAs500 ? 500 : httpStatusFor(error);
    if (fdExhausted) this.counters.fdExhausted += 1;
    if (res.headersSent) {
      // Too late for a status: cut the body short so the client sees an error, never a truncated success.
      this.counters.streamAborts += 1;
      this.#options.log.log('warn', 'stream-aborted', { url: req.url, error: errorMessage(error) });
      res.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (res.destroyed) return;
    if (status >= 500 && status !== 503 && status !== 504 && status !== 502) {
      this.#options.log.log('error', 'request-failed', { method: req.method, url: req.url, error });
    }
    const extra: Record<string, string> = status === 503 ? { 'retry-after': '1' } : {};
    if (!req.complete) extra.connection = 'close'; // an unread request body cannot be reused
    sendJson(res, status, { error: errorMessage(error), status }, extra);
  }
}
