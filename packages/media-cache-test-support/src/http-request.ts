// One HTTP exchange that either completes or rejects: for requests a test expects to succeed.
// (getObserved in observed-get.ts is the one that never throws, for requests a fault may cut.)
import { type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** From sending the request to the end of the body. */
  ms: number;
  text: () => string;
  json: <T = unknown>() => T;
}

export interface RequestOptions {
  method?: string;
  /** Send over this unix socket (the daemon's control socket) instead of TCP. */
  socketPath?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Socket idle bound. Default 10 s. */
  timeoutMs?: number;
}

/** The JSON body of a small response. */
export function json<T = Record<string, unknown>>(reply: { body: Buffer }): T {
  return JSON.parse(reply.body.toString('utf8')) as T;
}

function toResult(res: IncomingMessage, body: Buffer, started: number): HttpResult {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body,
    ms: performance.now() - started,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
  };
}

/**
 * One HTTP request on a fresh connection (no agent, `Connection: close`), body collected.
 * Rejects on a connection error, a body cut short (fewer bytes than Content-Length) or the bound.
 */
export function httpRequest(url: string, options: RequestOptions = {}): Promise<HttpResult> {
  const { method = 'GET', socketPath, headers = {}, body, timeoutMs = 10_000 } = options;
  const started = performance.now();
  const cut = (got: number, of: string) =>
    new Error(`${method} ${url}: connection cut mid-body at ${got} of ${of} bytes`);
  return new Promise((resolve, reject) => {
    const reqOptions = { method, socketPath, headers: { connection: 'close', ...headers }, agent: false as const };
    const req = request(url, reqOptions, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const data = Buffer.concat(parts);
        const expected = res.headers['content-length'];
        const short = expected !== undefined && Number(expected) !== data.byteLength && method !== 'HEAD';
        if (!res.complete || short) reject(cut(data.byteLength, expected ?? '?'));
        else resolve(toResult(res, data, started));
      });
      res.on('error', reject);
      res.on('aborted', () => reject(cut(Buffer.concat(parts).byteLength, res.headers['content-length'] ?? '?')));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} did not complete within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** One HTTP request over the daemon's control socket (see httpRequest). */
export function controlRequest(socket: string, method: string, path: string, timeoutMs = 10_000): Promise<HttpResult> {
  return httpRequest(`http://control${path}`, { method, socketPath: socket, timeoutMs });
}
