// Half-close through the proxy (issue 16, item 2), shared by half-close.test.ts (the `onread`
// fast path) and half-close-fallback.test.ts (plain `'data'` reads): a client's FIN goes
// upstream after every byte it sent, the upstream's reply still reaches the client, and the
// connection closes fully once both sides have closed, or one errors; toxics keep their meaning.
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import { api, type Ending, type Env, portOf, readToEnd, startServer, track, waitFor } from './helpers.ts';

interface Upstream {
  /** Everything the upstream read, and when it saw the client's FIN. */
  data: Buffer[];
  ended: number | undefined;
  sockets: Socket[];
  address: string;
}

/** An upstream that keeps its side open after the client's FIN and runs `onEnd` then. */
async function halfOpenUpstream(onEnd: (socket: Socket, received: Buffer) => void): Promise<Upstream> {
  const seen: Upstream = { data: [], ended: undefined, sockets: [], address: '' };
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    seen.sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => seen.data.push(chunk));
    socket.on('end', () => {
      seen.ended = performance.now();
      onEnd(socket, Buffer.concat(seen.data));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track(
    () =>
      new Promise<void>((resolve) => {
        for (const s of seen.sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  seen.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return seen;
}

/** A client that keeps reading after its own FIN. */
function halfOpenClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket({ allowHalfOpen: true });
    track(() => socket.destroy());
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

async function proxyTo(upstream: string, options: Parameters<typeof startServer>[0] = {}) {
  const env = await startServer(options);
  const proxy = await env.client.createProxy({ name: 'p', listen: 'localhost:0', upstream });
  return { ...env, port: portOf(proxy.listen) };
}

async function addToxic(env: Env, type: string, stream: string, attributes: Record<string, number>): Promise<void> {
  const res = await api(env.server, 'POST', '/proxies/p/toxics', { name: type, type, stream, attributes });
  expect(res.status, res.text).toBe(200);
}

const echoUntilEof = (socket: Socket, received: Buffer): void => {
  socket.end(received);
};

const replyAfterEof = (socket: Socket, received: Buffer): void => {
  socket.end(`got ${received.length}`);
};

/** Client sends `request`, half-closes, reads until the proxy closes its side. */
async function exchange(port: number, request: Buffer | string, ms = 5000): Promise<Ending> {
  const socket = await halfOpenClient(port);
  const ending = readToEnd(socket, ms);
  socket.end(request);
  return ending;
}

export function halfCloseCases(label: string): void {
  describe(`half-close (${label})`, () => {
    test('an echo-until-EOF upstream answers through the proxy', async () => {
      const upstream = await halfOpenUpstream(echoUntilEof);
      const env = await proxyTo(upstream.address);
      const end = await exchange(env.port, 'hello, until EOF');
      expect([end.how, end.data.toString()]).toEqual(['end', 'hello, until EOF']);
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });

    test('a request, a half-close, then the reply reaches the client', async () => {
      const upstream = await halfOpenUpstream((socket) => {
        setTimeout(() => socket.end('late reply'), 50);
      });
      const env = await proxyTo(upstream.address);
      const end = await exchange(env.port, 'request');
      expect([end.how, end.data.toString()]).toEqual(['end', 'late reply']);
    });

    test('a large upload: the FIN reaches the upstream after every byte, the reply after it', async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address);
      const size = 32 * 1024 * 1024;
      const end = await exchange(env.port, Buffer.alloc(size, 7), 20_000);
      expect([end.how, end.data.toString()]).toEqual(['end', `got ${size}`]);
    });

    test("the upstream's FIN reaches the client, which can still send; both closed ends the connection", async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address);
      const socket = await halfOpenClient(env.port);
      expect(await waitFor(() => upstream.sockets.length === 1)).toBe(true);
      const first = readToEnd(socket, 2000);
      upstream.sockets[0]!.end('bye');
      expect(await first).toMatchObject({ how: 'end', data: Buffer.from('bye') });
      const ending = readToEnd(socket, 2000);
      socket.end('after your FIN');
      await ending;
      expect(await waitFor(() => upstream.ended !== undefined)).toBe(true);
      expect(Buffer.concat(upstream.data).toString()).toBe('after your FIN');
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });

    test('latency upstream: the FIN follows the delayed bytes', async () => {
      const upstream = await halfOpenUpstream(echoUntilEof);
      const env = await proxyTo(upstream.address);
      await addToxic(env, 'latency', 'upstream', { latency: 100 });
      const started = performance.now();
      const end = await exchange(env.port, 'abc');
      expect([end.how, end.data.toString()]).toEqual(['end', 'abc']);
      expect(upstream.ended! - started).toBeGreaterThanOrEqual(90);
    });

    test('slow_close upstream delays the FIN it forwards (and counts it); the reply still arrives', async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address, { proxyMetrics: true });
      await addToxic(env, 'slow_close', 'upstream', { delay: 300 });
      const started = performance.now();
      const end = await exchange(env.port, 'abcd');
      expect([end.how, end.data.toString()]).toEqual(['end', 'got 4']);
      expect(upstream.ended! - started).toBeGreaterThanOrEqual(290);
      const metrics = (await api(env.server, 'GET', '/metrics')).text;
      expect(metrics).toMatch(/faultline_toxic_connections_total\{[^}]*toxic="slow_close"[^}]*\} 1/);
    });

    test('limit_data still closes the whole connection at its limit', async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address);
      await addToxic(env, 'limit_data', 'upstream', { bytes: 10 });
      const socket = await halfOpenClient(env.port);
      const ending = readToEnd(socket);
      socket.write('0123456789abcdef');
      const end = await ending;
      expect([end.how, end.data.toString()]).toEqual(['end', '']);
      expect(await waitFor(() => upstream.ended !== undefined)).toBe(true);
      expect(Buffer.concat(upstream.data).toString()).toBe('0123456789');
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });

    test('timeout swallows the FIN like the data and closes the connection when it fires', async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address);
      await addToxic(env, 'timeout', 'upstream', { timeout: 300 });
      const end = await exchange(env.port, 'dropped');
      expect([end.how, end.data.toString()]).toEqual(['end', '']);
      expect(end.elapsed).toBeGreaterThanOrEqual(280);
      expect(Buffer.concat(upstream.data).toString()).toBe('');
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });

    test('reset_peer downstream: the reply to a half-closed request is reset', async () => {
      const upstream = await halfOpenUpstream(replyAfterEof);
      const env = await proxyTo(upstream.address);
      await addToxic(env, 'reset_peer', 'downstream', { timeout: 100 });
      const end = await exchange(env.port, 'request');
      expect([end.how, end.data.toString()]).toEqual(['ECONNRESET', '']);
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });

    test('a client that closed (not only half-closed): the replies meet its RST, the whole connection closes', async () => {
      // A FIN cannot tell close() from shutdown(): the upstream sees a half-close first. The
      // client's RST answers the first reply; the proxy notices it on its next write.
      const upstream = await halfOpenUpstream((socket) => {
        const timer = setInterval(() => socket.write('reply to a closed client'), 20);
        socket.once('close', () => clearInterval(timer));
        track(() => clearInterval(timer));
      });
      const env = await proxyTo(upstream.address);
      const socket = await halfOpenClient(env.port);
      socket.write('x');
      expect(await waitFor(() => upstream.sockets.length === 1)).toBe(true);
      socket.destroy();
      expect(await waitFor(() => upstream.ended !== undefined)).toBe(true);
      expect(await waitFor(() => env.server.connectionCount === 0)).toBe(true);
    });
  });
}
