// Shared test plumbing: every server and socket a test opens is tracked and closed in
// afterEach, and every wait is bounded.
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { Toxiproxy } from 'toxiproxy-node-client';
import { afterEach } from 'vitest';
import { start, type ToxiproxyServer } from '../src/index.ts';

const cleanups: Array<() => unknown> = [];

export function track(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

export interface Env {
  server: ToxiproxyServer;
  client: Toxiproxy;
}

export async function startServer(options: Parameters<typeof start>[0] = {}): Promise<Env> {
  const server = await start(options);
  track(() => server.close());
  return { server, client: new Toxiproxy(server.url) };
}

export interface Upstream {
  server: Server;
  port: number;
  address: string;
  sockets: Socket[];
}

/** A TCP server on 127.0.0.1 running `onSocket` per connection (default: echo). */
export async function startUpstream(onSocket: (socket: Socket) => void = (s) => s.pipe(s)): Promise<Upstream> {
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  track(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, port, address: `127.0.0.1:${port}`, sockets };
}

export function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

export function connect(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    track(() => socket.destroy());
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

export async function isListening(port: number): Promise<boolean> {
  return connect(port).then(
    (socket) => {
      socket.destroy();
      return true;
    },
    () => false,
  );
}

/** Resolves with the first `n` bytes received (or rejects after `ms`). */
export function readBytes(socket: Socket, n: number, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const timer = setTimeout(() => finish(new Error(`timed out after ${ms} ms with ${total}/${n} bytes`)), ms);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= n) finish();
    };
    const onEnd = (): void => finish(new Error(`stream ended with ${total}/${n} bytes`));
    function finish(error?: Error): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      if (error) reject(error);
      else {
        const all = Buffer.concat(chunks);
        if (all.length > n) socket.unshift(all.subarray(n));
        resolve(all.subarray(0, n));
      }
    }
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

export interface Ending {
  data: Buffer;
  /** `end` (FIN), or the error code (ECONNRESET), or `timeout`. */
  how: string;
  elapsed: number;
}

/** Reads until the socket ends, errors or `ms` pass. */
export function readToEnd(socket: Socket, ms = 5000): Promise<Ending> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (how: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), how, elapsed: performance.now() - started });
    };
    const timer = setTimeout(() => finish('timeout'), ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => finish('end'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.once('close', () => finish('end'));
    socket.resume();
  });
}

export interface Raw {
  status: number;
  headers: Headers;
  text: string;
}

/** A raw HTTP call, for exact status codes, headers and bodies. */
export async function api(
  server: ToxiproxyServer,
  method: string,
  path: string,
  body?: unknown,
  headers = {},
): Promise<Raw> {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds or `ms` pass. */
export async function waitFor(check: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}

/** Round trip of `payload` through an echo path, in ms. */
export async function roundTrip(socket: Socket, payload = 'ping'): Promise<number> {
  const started = performance.now();
  socket.write(payload);
  await readBytes(socket, Buffer.byteLength(payload));
  return performance.now() - started;
}
