import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFailpointList } from './control.ts';
import { FailpointConfigError, isLethal, parseSpec } from './parse.ts';
import { checkName, globalRegistry } from './registry.ts';

/** A running gofail-compatible control server. */
export interface ControlServer {
  /** `127.0.0.1:PORT`, `[::1]:PORT` or the Unix socket path actually bound. */
  readonly address: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const MAX_WAIT_MS = 60_000;

type Target = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/**
 * Parses `HOST:PORT` (loopback only: 127.x.x.x, [::1], localhost) or a Unix socket path
 * (anything containing "/"). The endpoint has no authentication, so anything else is refused.
 */
export function parseControlAddress(address: string): Target {
  const where = `failpoints control address "${address}"`;
  if (address.includes('/')) return { kind: 'unix', path: address };
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`${where}: expected 127.0.0.1:PORT, [::1]:PORT or a Unix socket path`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`${where}: port ${port} is out of range`);
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!loopback) {
    throw new Error(
      `${where}: refusing non-loopback host "${host}": the control endpoint has no authentication; bind 127.0.0.1, [::1] or a Unix socket path`,
    );
  }
  return { kind: 'tcp', host, port };
}

/**
 * Starts runtime control of this process's global failpoints over HTTP (what FAILPOINTS_HTTP
 * does at import). The server is unref'd: it never keeps the process alive by itself.
 */
export async function startHttpControl(address: string): Promise<ControlServer> {
  const target = parseControlAddress(address);
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, `failpoints: ${(e as Error).message}\n`));
  });
  if (target.kind === 'unix') removeStaleSocket(target.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const onListening = () => {
      server.off('error', reject);
      resolve();
    };
    if (target.kind === 'unix') server.listen(target.path, onListening);
    else server.listen(target.port, target.host, onListening);
  });
  let bound: string;
  if (target.kind === 'unix') {
    // Owner-only: whoever can connect can kill the process.
    chmodSync(target.path, 0o600);
    bound = target.path;
  } else {
    const info = server.address() as AddressInfo;
    bound = info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
  }
  server.unref();
  return { address: bound, close: () => closeServer(server) };
}

function removeStaleSocket(path: string): void {
  try {
    const st = lstatSync(path);
    if (!st.isSocket())
      throw new Error(`failpoints control socket ${path}: path exists and is not a socket; remove it`);
    unlinkSync(path); // left behind by a process that was killed
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function send(res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://failpoints');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, `failpoints: malformed path ${url.pathname}\n`);
  }
  const method = req.method ?? 'GET';
  const registry = globalRegistry;

  if (path === '/') {
    if (method !== 'GET') return send(res, 405, 'failpoints: GET / lists failpoints\n', { allow: 'GET' });
    const body = registry
      .list()
      .map(([n, s]) => `${n}=${s}\n`)
      .join('');
    return send(res, 200, body);
  }

  if (path.endsWith('/count') && path.length > '/count'.length + 1) {
    const name = path.slice(1, -'/count'.length);
    if (method !== 'GET') return send(res, 405, `failpoints: only GET ${path}\n`, { allow: 'GET' });
    return count(res, name, url.searchParams);
  }

  const name = path.slice(1);
  switch (method) {
    case 'GET': {
      const point = registry.points.get(name);
      if (!point) return send(res, 404, `failpoints: failpoint "${name}" is not set\n`);
      return send(res, 200, point.spec);
    }
    case 'PUT': {
      const body = await readBody(req);
      if (body === undefined) return send(res, 413, `failpoints: body over ${MAX_BODY} bytes\n`);
      if (name === 'failpoints') return bulk(res, body);
      let actions: ReturnType<typeof parseSpec>;
      try {
        checkName(name);
        actions = parseSpec(body);
      } catch (e) {
        return send(res, 400, `${(e as Error).message}\n`);
      }
      if (isLethal(actions)) {
        // Acknowledge first: the spec is applied once the 204 has been handed to the kernel,
        // so the caller always learns that the PUT succeeded before the process can die.
        res.once('finish', () => registry.set(name, body, actions));
        return send(res, 204);
      }
      registry.set(name, body, actions);
      return send(res, 204);
    }
    case 'DELETE':
      if (!registry.remove(name)) return send(res, 400, `failpoints: failpoint "${name}" is not set\n`);
      return send(res, 204);
    default:
      return send(res, 405, `failpoints: ${method} is not supported; use GET, PUT or DELETE\n`, {
        allow: 'GET, PUT, DELETE',
      });
  }
}

function bulk(res: ServerResponse, body: string): void {
  try {
    applyFailpointList(globalRegistry, body, 'PUT /failpoints');
  } catch (e) {
    if (!(e instanceof FailpointConfigError)) throw e;
    send(res, 400, `${e.message}\n`);
    return;
  }
  send(res, 204);
}

// `GET /NAME/count` answers at once; with `?after=N` it long-polls until the count exceeds N
// (bounded by `timeout`, default 10 s, max 60 s; 408 on timeout).
async function count(res: ServerResponse, name: string, query: URLSearchParams): Promise<void> {
  const registry = globalRegistry;
  const current = registry.count(name);
  if (current === undefined) return send(res, 404, `failpoints: failpoint "${name}" is not set\n`);
  const afterText = query.get('after');
  if (afterText === null) return send(res, 200, `${current}\n`);
  const after = Number(afterText);
  const timeout = Number(query.get('timeout') ?? 10_000);
  if (!Number.isInteger(after) || !Number.isInteger(timeout) || timeout < 0 || timeout > MAX_WAIT_MS) {
    return send(res, 400, `failpoints: after must be an integer and timeout an integer 0-${MAX_WAIT_MS} ms\n`);
  }
  try {
    const n = await registry.waitForHit(name, after, timeout);
    send(res, 200, `${n}\n`);
  } catch (e) {
    const removed = !registry.points.has(name);
    send(res, removed ? 404 : 408, `failpoints: ${(e as Error).message}\n`);
  }
}
