// Carries a test's identity across loopback HTTP: a request a test sends to a server that runs
// in this process but was started in a hook (beforeAll) is handled in the hook's async context,
// not the test's. Node publishes client and server requests on diagnostics channels; the client
// side notes which test sent a request on which local port, the server side looks the port up
// and enters that test's scope before the request handler runs.
import type { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Starts carrying `scope`'s store from in-process HTTP clients to in-process HTTP servers. */
export function attributeLoopbackHttp<T extends object>(scope: AsyncLocalStorage<T>): void {
  // Per local port, the test whose request is in flight on it (keep-alive sockets are reused by
  // other tests, so it is updated per request, not per connection).
  const byPort = new Map<number, T>();
  const byRequest = new WeakMap<object, T>();
  // One 'close' listener per socket, not per request: keep-alive sockets carry many requests.
  const watched = new WeakSet<Socket>();

  const onSocket = (socket: Socket, owner: T) => {
    const note = () => {
      const port = socket.localPort;
      if (port === undefined) return;
      byPort.set(port, owner);
      if (watched.has(socket)) return;
      watched.add(socket);
      socket.once('close', () => byPort.delete(port));
    };
    if (socket.localPort !== undefined) note();
    else socket.once('connect', note);
  };

  // node:http clients: the request is created in the caller's context; it starts (socket
  // assigned, possibly a reused keep-alive one) later, from wherever the agent frees a socket.
  subscribe('http.client.request.created', (message) => {
    const owner = scope.getStore();
    if (owner) byRequest.set((message as { request: ClientRequest }).request, owner);
  });
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequest }).request;
    const owner = byRequest.get(request);
    if (!owner) return;
    if (request.socket) onSocket(request.socket, owner);
    else request.once('socket', (socket) => onSocket(socket as Socket, owner));
  });
  // fetch (undici): the request is created in the caller's context, its headers sent later.
  subscribe('undici:request:create', (message) => {
    const owner = scope.getStore();
    if (owner) byRequest.set((message as { request: object }).request, owner);
  });
  subscribe('undici:client:sendHeaders', (message) => {
    const { request, socket } = message as { request: object; socket: Socket };
    const owner = byRequest.get(request);
    if (owner) onSocket(socket, owner);
  });
  // Published just before the server emits 'request': entering the scope here makes the
  // handler, and everything it starts, run as the test that sent the request.
  subscribe('http.server.request.start', (message) => {
    const socket = (message as { socket: Socket }).socket;
    if (!socket.remoteAddress || !LOOPBACK.has(socket.remoteAddress) || socket.remotePort === undefined) return;
    const owner = byPort.get(socket.remotePort);
    if (owner) scope.enterWith(owner);
  });
}
