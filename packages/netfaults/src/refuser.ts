// A refused connection attempt never reaches userland (the kernel answers the SYN with RST), so
// nothing could count it. While a `refuse` partition holds a proxy's port on this machine, a
// refuser listens there instead: it accepts each attempt and resets it at once (RST, no data),
// counting it. The client sees the connection reset (ECONNRESET) rather than ECONNREFUSED.
import { createServer, type Server } from 'node:net';

const BIND_WAIT_MS = 1000;
const BIND_RETRY_MS = 10;

export class Refuser {
  /** Connection attempts accepted and reset so far. */
  attempts = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket) => {
      this.attempts++;
      socket.on('error', () => undefined);
      socket.resetAndDestroy();
    });
  }

  /**
   * Binds `host:port` once the disabled proxy has let go of it (retried for at most 1 s);
   * undefined when it cannot (another process holds the port): attempts then go uncounted.
   */
  static async hold(host: string, port: number): Promise<Refuser | undefined> {
    const deadline = performance.now() + BIND_WAIT_MS;
    for (;;) {
      const server = createServer();
      const error = await listen(server, host, port);
      if (!error) return new Refuser(server);
      if (error.code !== 'EADDRINUSE' || performance.now() > deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
    }
  }

  /** Stops listening (the proxy re-binds the port next); resolves once the port is free. */
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

function listen(server: Server, host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    server.once('error', resolve);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', resolve);
      resolve(undefined);
    });
  });
}
