import { Agent, type IncomingMessage, request } from 'node:http';
import { errorCode, isFdExhaustion, OriginError } from '../errors.ts';
import { encodeFilePath } from '../paths.ts';
import { Reclaimer } from '../reclaim.ts';
import type { ListPage, Origin, OriginEntry, OriginStat } from './types.ts';

export interface HttpOriginOptions {
  id: string;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  priority?: number;
  /** Prefix for file paths: `/files` for another media-cache, `` for a plain static server. */
  filesPrefix?: string;
  healthPath?: string;
  listPath?: string;
  /** unsafe.acceptShortOriginBody (test-only): a body cut short is returned as it is, not an error. */
  acceptShortBody?: boolean;
}

/** The largest JSON body (listing, health) read into memory from an origin. */
const MAX_SMALL_BODY = 4 * 1024 * 1024;

/**
 * Another media-cache or any static file server, read with `GET` + `Range`. No keep-alive:
 * a pooled socket the origin closed while idle would turn into a spurious reset and failover.
 */
export class HttpOrigin implements Origin {
  readonly id: string;
  readonly kind = 'http' as const;
  readonly priority: number;
  readonly url: string;
  readonly filesPrefix: string;
  readonly healthPath: string;
  readonly listPath: string;
  readonly #agent = new Agent({ keepAlive: false });
  readonly #reclaim = new Reclaimer();
  readonly #acceptShortBody: boolean;

  constructor(options: HttpOriginOptions) {
    this.id = options.id;
    this.url = options.url.replace(/\/+$/, '');
    this.priority = options.priority ?? 0;
    this.#acceptShortBody = options.acceptShortBody ?? false;
    this.filesPrefix = (options.filesPrefix ?? '/files').replace(/\/+$/, '');
    this.healthPath = options.healthPath ?? '/healthz';
    this.listPath = options.listPath ?? '/list';
  }

  #fileUrl(path: string): string {
    return `${this.url}${this.filesPrefix}/${encodeFilePath(path)}`;
  }

  #classify(error: unknown, what: string, signal: AbortSignal): OriginError {
    if (error instanceof OriginError) return error;
    const where = `origin "${this.id}" (${this.url}): ${what}`;
    if (signal.aborted) return new OriginError('aborted', this.id, `${where}: aborted`, { cause: signal.reason });
    if (isFdExhaustion(error)) {
      return new OriginError('fd-exhausted', this.id, `${where}: out of file descriptors (${errorCode(error)})`, {
        cause: error,
      });
    }
    const code = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
    return new OriginError('unavailable', this.id, `${where}: ${code}`, { cause: error });
  }

  #send(method: string, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.#agent, signal }, resolve);
      req.on('error', reject);
      req.end();
    });
  }

  #statusError(res: IncomingMessage, what: string): OriginError {
    res.resume();
    const status = res.statusCode ?? 0;
    const where = `origin "${this.id}" (${this.url}): ${what}`;
    if (status === 404 || status === 410) return new OriginError('not-found', this.id, `${where}: HTTP ${status}`);
    return new OriginError('unavailable', this.id, `${where}: HTTP ${status}`);
  }

  async stat(path: string, signal: AbortSignal): Promise<OriginStat> {
    try {
      const res = await this.#send('HEAD', this.#fileUrl(path), {}, signal);
      res.resume();
      if (res.statusCode !== 200) throw this.#statusError(res, `HEAD ${path}`);
      const size = Number(res.headers['content-length']);
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new OriginError('unavailable', this.id, `origin "${this.id}": HEAD ${path} has no usable Content-Length`);
      }
      const explicit = Number(res.headers['x-mtime-ms']);
      const modified = Date.parse(String(res.headers['last-modified'] ?? ''));
      const mtimeMs = Number.isFinite(explicit) ? explicit : Number.isFinite(modified) ? modified : 0;
      return { size, mtimeMs };
    } catch (error) {
      throw this.#classify(error, `HEAD ${path}`, signal);
    }
  }

  async read(path: string, start: number, length: number, signal: AbortSignal, into?: Buffer): Promise<Buffer> {
    const what = `GET ${path} bytes ${start}-${start + length - 1}`;
    try {
      if (length === 0) return Buffer.alloc(0);
      const res = await this.#send(
        'GET',
        this.#fileUrl(path),
        { range: `bytes=${start}-${start + length - 1}` },
        signal,
      );
      // 200 means the server ignored Range: usable only when we wanted the head of the file.
      if (!(res.statusCode === 206 || (res.statusCode === 200 && start === 0))) throw this.#statusError(res, what);
      return await this.#readExactly(res, length, res.statusCode === 200, what, into);
    } catch (error) {
      throw this.#classify(error, what, signal);
    }
  }

  /** Collects exactly `length` bytes; an early end or reset mid-body is an error, never a short success. */
  #readExactly(res: IncomingMessage, length: number, allowMore: boolean, what: string, into?: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const buffer = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
      let offset = 0;
      let settled = false;
      const finish = (error: Error | null) => {
        if (settled) return;
        settled = true;
        if (error !== null && this.#acceptShortBody && offset > 0) resolve(buffer.subarray(0, offset));
        else if (error === null) resolve(buffer);
        else {
          res.destroy();
          reject(error);
        }
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = length - offset;
        if (chunk.byteLength > room && !allowMore) {
          finish(new OriginError('unavailable', this.id, `origin "${this.id}": ${what}: sent more bytes than asked`));
          return;
        }
        chunk.copy(buffer, offset, 0, Math.min(room, chunk.byteLength));
        this.#reclaim.note(chunk.byteLength);
        offset += Math.min(room, chunk.byteLength);
        if (offset === length && allowMore) {
          // Full-body answer to a head read: we have what we need, drop the rest.
          finish(null);
          res.destroy();
        }
      });
      res.on('end', () => {
        if (offset === length) finish(null);
        else {
          finish(
            new OriginError(
              'unavailable',
              this.id,
              `origin "${this.id}": ${what}: body ended after ${offset} of ${length} bytes (truncated)`,
            ),
          );
        }
      });
      res.on('aborted', () =>
        finish(new OriginError('unavailable', this.id, `origin "${this.id}": ${what}: connection reset mid-body`)),
      );
      res.on('error', (error) => finish(error));
      res.on('close', () => {
        if (offset !== length) {
          finish(
            new OriginError(
              'unavailable',
              this.id,
              `origin "${this.id}": ${what}: connection closed after ${offset} of ${length} bytes`,
            ),
          );
        }
      });
    });
  }

  async #getJson(url: string, what: string, signal: AbortSignal): Promise<unknown> {
    const res = await this.#send('GET', url, {}, signal);
    if (res.statusCode !== 200) throw this.#statusError(res, what);
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of res) {
      size += (chunk as Buffer).byteLength;
      if (size > MAX_SMALL_BODY) {
        res.destroy();
        throw new OriginError(
          'unavailable',
          this.id,
          `origin "${this.id}": ${what}: body larger than ${MAX_SMALL_BODY} bytes`,
        );
      }
      parts.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      throw new OriginError('unavailable', this.id, `origin "${this.id}": ${what}: answer is not JSON`);
    }
  }

  async list(after: string | null, limit: number, signal: AbortSignal): Promise<ListPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (after !== null) query.set('after', after);
    const what = `GET ${this.listPath}`;
    try {
      const body = (await this.#getJson(`${this.url}${this.listPath}?${query}`, what, signal)) as {
        entries?: unknown;
        next?: unknown;
      };
      if (!Array.isArray(body.entries) || !(body.next === null || typeof body.next === 'string')) {
        throw new OriginError('unavailable', this.id, `origin "${this.id}": ${what}: expected {entries: [...], next}`);
      }
      const entries = (body.entries as OriginEntry[]).map((e) => ({
        path: String(e.path),
        size: Number(e.size),
        mtimeMs: Number(e.mtimeMs),
      }));
      return { entries, next: body.next as string | null };
    } catch (error) {
      throw this.#classify(error, what, signal);
    }
  }

  async check(signal: AbortSignal): Promise<void> {
    const what = `health GET ${this.healthPath}`;
    try {
      const res = await this.#send('GET', `${this.url}${this.healthPath}`, {}, signal);
      res.resume();
      // Any answer below 500 proves the server is up (a static server may 404 the health path).
      if ((res.statusCode ?? 500) >= 500) throw this.#statusError(res, what);
    } catch (error) {
      throw this.#classify(error, what, signal);
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}
