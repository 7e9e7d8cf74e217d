import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type ActionQueue, ActionQueueClosedError, ActionTimeoutError } from './action-queue.ts';
import { errorMessage, httpStatusFor, RequestError } from './errors.ts';
import { InflightTracker } from './inflight.ts';
import type { Logger } from './log.ts';

/** A mutating action: runs inside the serial queue with an abort signal. */
export type ActionHandler = (params: URLSearchParams, signal: AbortSignal) => Promise<unknown>;

export interface ControlServerOptions {
  actions: ActionQueue;
  /** Pre-serialized status snapshot (the fast path). */
  statusJson: () => string;
  /** unsafe.statusThroughQueue: serve `GET /` through the action queue (test-only). */
  statusThroughQueue: boolean;
  handlers: Record<string, ActionHandler>;
  log: Logger;
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * HTTP over a unix socket. `GET /` answers from the status snapshot without touching the
 * queue; `PUT /actions/<name>` goes through the ONE serial action queue with a timeout
 * (`?timeoutMs=` overrides the default).
 */
export class ControlServer {
  readonly server: Server;
  readonly inflight = new InflightTracker();
  readonly #options: ControlServerOptions;
  path: string | null = null;

  constructor(options: ControlServerOptions) {
    this.#options = options;
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.server.on('error', (error) => options.log.log('error', 'control-server-error', { error }));
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(new Error(`cannot listen on control socket ${path}: ${errorMessage(error)}`, { cause: error }));
      this.server.once('error', onError);
      this.server.listen(path, () => {
        this.server.off('error', onError);
        this.path = path;
        resolve();
      });
    });
  }

  stopAccepting(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  async drain(deadlineMs: number): Promise<void> {
    if (!(await this.inflight.drain(deadlineMs))) this.inflight.abortAll(new Error('shutting down'));
    this.server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const flight = this.inflight.begin(res);
    try {
      const url = new URL(req.url ?? '/', 'http://control.invalid');
      const method = req.method ?? 'GET';
      req.resume(); // bodies are not used; parameters travel in the query string
      if (url.pathname === '/' && method === 'GET') {
        if (this.#options.statusThroughQueue) {
          const json = await this.#options.actions.enqueue('status', async () => this.#options.statusJson());
          send(res, 200, json);
        } else {
          send(res, 200, this.#options.statusJson());
        }
        return;
      }
      const m = /^\/actions\/([a-z-]+)$/.exec(url.pathname);
      if (m !== null) {
        const name = m[1]!;
        const handler = this.#options.handlers[name];
        if (handler === undefined) {
          throw new RequestError(
            404,
            `unknown action "${name}"; known: ${Object.keys(this.#options.handlers).join(', ')}`,
          );
        }
        if (method !== 'PUT' && method !== 'POST')
          throw new RequestError(405, `actions are mutating: use PUT /actions/${name}`);
        const timeoutRaw = url.searchParams.get('timeoutMs');
        const timeoutMs = timeoutRaw === null ? undefined : Number(timeoutRaw);
        if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
          throw new RequestError(400, `timeoutMs must be a positive integer, got "${timeoutRaw}"`);
        }
        const started = performance.now();
        const result = await this.#options.actions.enqueue(
          name,
          (signal) => handler(url.searchParams, AbortSignal.any([signal, flight.signal])),
          timeoutMs,
        );
        if (result === undefined) {
          res.writeHead(204);
          res.end();
        } else {
          send(res, 200, JSON.stringify({ action: name, ms: Math.round(performance.now() - started), result }));
        }
        return;
      }
      throw new RequestError(404, `no route for ${method} ${url.pathname}; try GET / or PUT /actions/<name>`);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status =
        error instanceof ActionTimeoutError
          ? 504
          : error instanceof ActionQueueClosedError
            ? 503
            : httpStatusFor(error);
      send(res, status, JSON.stringify({ error: errorMessage(error), status }));
    }
  }
}
