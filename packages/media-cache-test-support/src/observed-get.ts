// An HTTP client that tells the whole truth about a response and never throws for network trouble:
// for reads a fault may refuse, reset, cut short or stall, where how it ended is the result.
import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';

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
  /** `total` (default): the whole exchange; `idle`: the longest silence on the socket. */
  timeoutKind?: 'total' | 'idle';
  keepBody?: boolean;
  /** Called once the response head arrived. */
  onHead?: (status: number) => void;
  /** Called with each body piece (for progress-driven tests). */
  onData?: (bytes: number) => void;
  /** Aborting destroys the connection; the result then has `error: 'aborted by the caller …'`. */
  signal?: AbortSignal;
}

const failure = (e: Error) => `${(e as NodeJS.ErrnoException).code ?? e.message}`;

/**
 * One request on a fresh connection. A connection error, a body cut short or a client timeout is
 * reported in `error`, with what arrived before it.
 */
export function getObserved(url: string, options: GetOptions = {}): Promise<Fetched> {
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
      resolve({
        status,
        headers,
        contentLength: cl,
        bytes,
        sha256: hash.digest('hex'),
        body: Buffer.concat(parts),
        error,
        complete: error === null && (cl === null || options.method === 'HEAD' || cl === bytes),
        ms: Math.round(performance.now() - started),
      });
    };
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      options.onHead?.(status);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        hash.update(chunk);
        if (keepBody) parts.push(chunk);
        options.onData?.(bytes);
      });
      res.on('end', () => finish(res.complete ? null : `body ended early after ${bytes} bytes`));
      res.on('aborted', () => finish(`connection cut mid-body after ${bytes} bytes`));
      res.on('error', (e) => finish(`${failure(e)} after ${bytes} body bytes`));
      res.on('close', () => finish(res.complete ? null : `connection closed mid-body after ${bytes} bytes`));
    });
    const timedOut = () => {
      finish(`client timeout after ${timeoutMs} ms (${bytes} body bytes)`);
      req.destroy();
    };
    const timer = options.timeoutKind === 'idle' ? undefined : setTimeout(timedOut, timeoutMs);
    if (options.timeoutKind === 'idle') req.setTimeout(timeoutMs, timedOut);
    req.on('error', (e) => finish(`${failure(e)} (${bytes} body bytes)`));
    const aborted = () => {
      finish(`aborted by the caller after ${bytes} body bytes`);
      req.destroy();
    };
    options.signal?.addEventListener('abort', aborted, { once: true });
    req.end();
  });
}
