// Real loopback dependencies for the tests: a TCP echo server and an HTTP server.
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Dependency {
  port: number;
  close(): Promise<void>;
}

function track(server: Server | HttpServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function listen(server: Server | HttpServer): Promise<Dependency> {
  const sockets = track(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function startEcho(): Promise<Dependency> {
  return listen(
    createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    }),
  );
}

export const HTTP_BODY = 'x'.repeat(4096);

export function startHttp(): Promise<Dependency> {
  return listen(
    createHttpServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'text/plain');
      res.end(HTTP_BODY);
    }),
  );
}

/** Sends `payload`, waits until it comes back, closes; returns the round trip in ms. */
export async function echoRoundTrip(host: string, port: number, payload = 'ping'): Promise<number> {
  const socket = connect(port, host);
  try {
    await once(socket, 'connect');
    const started = performance.now();
    socket.write(payload);
    let received = '';
    while (received.length < payload.length) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      received += chunk.toString();
    }
    const ms = performance.now() - started;
    if (received !== payload) throw new Error(`echo returned ${JSON.stringify(received)}`);
    return ms;
  } finally {
    socket.end();
    socket.destroy();
    await once(socket, 'close').catch(() => undefined);
  }
}

/** Connects and reports what happened within `ms`: refused/reset/closed, or data/timeout. */
export function probe(
  host: string,
  port: number,
  ms = 1000,
): Promise<'refused' | 'reset' | 'closed' | 'echoed' | 'silent'> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const done = (r: 'refused' | 'reset' | 'closed' | 'echoed' | 'silent') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('silent'), ms);
    socket.on('connect', () => socket.write('probe'));
    socket.on('data', () => done('echoed'));
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'reset'));
    socket.on('close', () => done('closed'));
  });
}

/** A GET with a fresh connection (no keep-alive pool), so the proxy sees the connection end. */
export async function httpGet(url: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { connection: 'close' } });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
}

/** Metrics count a connection's bytes when it ends; give the server a moment to see the FIN. */
export const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));
