// The HTTP API and its lifecycle: routes, error mapping (Redis trouble is a 503 with Retry-After,
// never a hang or a 500), the reaper, and the graceful shutdown (stop accepting, drain, close).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { BlockingPool, TooManyClaimsError } from './pool.ts';
import { connectRedis, RedisUnavailableError } from './redis.ts';
import { JobStore } from './store.ts';

export type Log = (event: string, fields?: Record<string, unknown>) => void;

export interface ServiceOptions {
  config: Config;
  /** The main connection; default: a new one to `config.redisUrl`. Tests hand in a wrapped one. */
  redis?: Redis;
  log?: Log;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ShutdownReport {
  /** Every in-flight request finished within drainMs. */
  drained: boolean;
  /** Requests still open at the deadline, answered 503 or cut. */
  cut: number;
  ms: number;
}

class BadRequestError extends Error {}

const MAX_BODY = 64 * 1024;

/** Reads a request body, refusing more than MAX_BODY bytes. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_BODY) throw new BadRequestError(`body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(body ? { 'content-type': 'application/json' } : {}),
    'content-length': String(Buffer.byteLength(body)),
    ...reply.headers,
  });
  res.end(body);
}

/** Resolves true once `done()` holds, false after `ms`; re-checked whenever `wake` is called. */
function waitUntil(done: () => boolean, ms: number, wakers: Set<() => void>): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (value: boolean) => {
      clearTimeout(timer);
      wakers.delete(check);
      resolve(value);
    };
    const check = () => {
      if (done()) finish(true);
    };
    const timer = setTimeout(() => finish(false), ms);
    wakers.add(check);
  });
}

/** True when `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export class JobService {
  readonly config: Config;
  readonly redis: Redis;
  readonly store: JobStore;
  readonly #pool: BlockingPool;
  readonly #server: Server;
  readonly #log: Log;
  readonly #wakers = new Set<() => void>();
  #inflight = 0;
  #draining = false;
  #closing: Promise<ShutdownReport> | undefined;
  #reaper: NodeJS.Timeout | undefined;
  #reapFailing = false;

  constructor(options: ServiceOptions) {
    const { config } = options;
    this.config = config;
    this.#log = options.log ?? (() => undefined);
    const onError = (error: Error) => this.#log('redis-error', { error: error.message });
    this.redis = options.redis ?? connectRedis(config.redisUrl, config.commandTimeoutMs, onError);
    this.store = new JobStore(this.redis, config);
    this.#pool = new BlockingPool(
      () => this.redis.duplicate().on('error', onError),
      config.maxWaitingClaims,
      config.commandTimeoutMs,
    );
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#startReaper();
  }

  get inflight(): number {
    return this.#inflight;
  }

  /** Starts listening; resolves with the base URL. Does not wait for Redis: the service starts degraded. */
  listen(): Promise<string> {
    const { host, port } = this.config;
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const address = this.#server.address() as AddressInfo;
        resolve(`http://${host}:${address.port}`);
      });
    });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.#inflight += 1;
    res.once('close', () => {
      this.#inflight -= 1;
      for (const wake of [...this.#wakers]) wake();
    });
    this.#route(req).then(
      (reply) => this.#send(res, reply),
      (error: unknown) => this.#send(res, this.#errorReply(req, error)),
    );
  }

  #send(res: ServerResponse, reply: Reply): void {
    // While draining, answer and close: a kept-alive connection would outlive the drain.
    if (this.#draining) res.setHeader('connection', 'close');
    send(res, reply);
  }

  #errorReply(req: IncomingMessage, error: unknown): Reply {
    const retry = { 'retry-after': '1' };
    if (this.#draining && (error instanceof RedisUnavailableError || error instanceof TooManyClaimsError)) {
      return { status: 503, body: { error: 'shutting down' }, headers: retry };
    }
    if (error instanceof RedisUnavailableError || error instanceof TooManyClaimsError) {
      return { status: 503, body: { error: error.message }, headers: retry };
    }
    if (error instanceof BadRequestError) return { status: 400, body: { error: error.message } };
    this.#log('internal-error', { method: req.method, url: req.url, error: String(error) });
    return { status: 500, body: { error: 'internal error' } };
  }

  async #route(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/health') return this.#health();
    if (req.method === 'GET' && path === '/stats') return this.#stats();
    if (req.method === 'POST' && path === '/jobs') return this.#enqueue(req);
    if (req.method === 'POST' && path === '/jobs/claim') return this.#claim(url);
    const ack = /^\/jobs\/([\w-]+)\/ack$/.exec(path);
    if (req.method === 'POST' && ack) return this.#ack(ack[1]!);
    const job = /^\/jobs\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && job) return this.#get(job[1]!);
    return { status: 404, body: { error: `no route ${req.method} ${path}` } };
  }

  async #health(): Promise<Reply> {
    try {
      await this.store.ping();
      return { status: 200, body: { redis: 'up', draining: this.#draining } };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { status: 503, body: { redis: 'down', error: reason }, headers: { 'retry-after': '1' } };
    }
  }

  async #stats(): Promise<Reply> {
    const queue = await this.store.stats();
    return { status: 200, body: { ...queue, waitingClaims: this.#pool.waiting, inflight: this.#inflight } };
  }

  async #enqueue(req: IncomingMessage): Promise<Reply> {
    const id = await this.store.enqueue(await readBody(req));
    return { status: 201, body: { id } };
  }

  async #get(id: string): Promise<Reply> {
    const payload = await this.store.get(id);
    if (payload === undefined) return { status: 404, body: { error: `no job ${id}` } };
    return { status: 200, body: { id, payload } };
  }

  async #claim(url: URL): Promise<Reply> {
    const waitMs = Math.min(Number(url.searchParams.get('wait') ?? 0) || 0, this.config.maxWaitMs);
    const conn = await this.#pool.acquire();
    let reusable = false;
    try {
      const job = await this.store.claim(conn, waitMs);
      reusable = true;
      if (!job && this.#draining)
        return { status: 503, body: { error: 'shutting down' }, headers: { 'retry-after': '1' } };
      if (!job) return { status: 204 };
      return { status: 200, body: { ...job, leaseMs: this.config.leaseMs } };
    } finally {
      this.#pool.release(conn, reusable);
    }
  }

  async #ack(id: string): Promise<Reply> {
    if (await this.store.ack(id)) return { status: 204 };
    return { status: 404, body: { error: `job ${id} is not claimed (unknown, acknowledged, or its lease expired)` } };
  }

  #startReaper(): void {
    const reap = () => void this.#reapOnce();
    // At once when Redis (re)connects: claims orphaned by a crash come back without delay.
    this.redis.on('ready', reap);
    this.#reaper = setInterval(reap, this.config.reapIntervalMs);
    this.#reaper.unref();
  }

  async #reapOnce(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      const requeued = await this.store.reap();
      if (requeued > 0) this.#log('requeued', { jobs: requeued });
      this.#reapFailing = false;
    } catch (error) {
      // One line per outage, not one per interval.
      if (!this.#reapFailing) this.#log('reap-failed', { error: String(error) });
      this.#reapFailing = true;
    }
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests (long-poll claims included) finish
   * within drainMs, then end what is left with a 503, close Redis. Idempotent.
   */
  close(): Promise<ShutdownReport> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<ShutdownReport> {
    const started = performance.now();
    this.#draining = true;
    clearInterval(this.#reaper);
    // Stop accepting first, then say so: whoever reads the line finds the port closed.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#log('shutdown-begin', { inflight: this.#inflight, drainMs: this.config.drainMs });
    const drained = await waitUntil(() => this.#inflight === 0, this.config.drainMs, this.#wakers);
    const cut = this.#inflight;
    if (!drained) {
      await this.#pool.abortWaiting(this.redis); // waiting claims answer 503 "shutting down"
      await waitUntil(() => this.#inflight === 0, 1_000, this.#wakers);
      this.#server.closeAllConnections(); // whatever still hangs is cut
    }
    this.#server.closeIdleConnections();
    if (!(await settlesWithin(closed, 1_000))) this.#server.closeAllConnections();
    this.#pool.close();
    await this.#quitRedis();
    const report = { drained, cut, ms: Math.round(performance.now() - started) };
    this.#log('shutdown-complete', { ...report });
    return report;
  }

  /** QUIT lets Redis answer what was sent; a Redis that does not answer is disconnected. */
  async #quitRedis(): Promise<void> {
    const quit = this.redis.quit().then(
      () => true,
      () => false,
    );
    if (!(await settlesWithin(quit, this.config.commandTimeoutMs)) || !(await quit)) this.redis.disconnect();
  }
}
