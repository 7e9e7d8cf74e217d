// Routing and response writing for the HTTP API, with the behaviour of Toxiproxy's gorilla/mux
// router and middleware (/work/shared/reference/toxiproxy-semantics.md §1): 404/405 for
// unrouted paths and methods, the request id and browser block on matched routes only, and
// Go's `http.Error` body for every API error. The handlers themselves are in api-handlers.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { goJson, parseBody } from './decode.ts';
import { type ApiError, toApiError } from './errors.ts';
import { requestId } from './request-id.ts';

/** What a handler answers: JSON, a text body of a given type, an empty 204, or an API error. */
export type Reply =
  | { status: number; json: unknown }
  | { status: number; text: string; type: string }
  | { status: 204 }
  | { error: ApiError };

export interface ApiRequest {
  /** The route's `{name}` segments, decoded (`proxy`, `toxic`). */
  params: Readonly<Record<string, string>>;
  /** The body parsed as a Go `Decoder` would (read once, on first call). */
  body(): Promise<unknown>;
}

export type Handler = (request: ApiRequest) => Promise<Reply>;

/** One row of the table, as mux's `HandleFunc(path, handler).Methods(...).Name(name)`. */
export interface Route {
  /** Toxiproxy's handler name (api.go). */
  name: string;
  /** `/proxies/{proxy}`: a `{name}` segment matches one non-empty segment. */
  path: string;
  methods: readonly string[];
  handler: Handler;
}

export const json = (status: number, value: unknown): Reply => ({ status, json: value });

/** Serves one request through the table; rejects only when writing the response failed. */
export async function dispatch(routes: readonly Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = matchRoute(routes, req.method ?? '', req.url ?? '/');
  if (match === 'not-found') {
    // Unrouted paths get Go's NotFound, without the request-id middleware.
    send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8', true);
    req.resume();
    return;
  }
  if (match === 'method-not-allowed') {
    res.writeHead(405, { 'Content-Length': 0 }).end();
    req.resume();
    return;
  }
  res.setHeader('X-Toxiproxy-Request-Id', requestId());
  if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    // The real server refuses browsers (CSRF protection for a localhost API).
    send(res, 403, 'User agent not allowed\n', 'text/plain; charset=utf-8', true);
    req.resume();
    return;
  }
  writeReply(res, await runHandler(match.route.handler, match.params, req));
}

async function runHandler(handler: Handler, params: Record<string, string>, req: IncomingMessage): Promise<Reply> {
  let bodyText: Promise<Buffer> | undefined;
  const request: ApiRequest = {
    params,
    body: async () => {
      bodyText ??= readBody(req);
      return parseBody(await bodyText);
    },
  };
  let reply: Reply;
  try {
    reply = await handler(request);
  } catch (error) {
    reply = { error: toApiError(error) };
  }
  if (!bodyText) req.resume();
  return reply;
}

function writeReply(res: ServerResponse, reply: Reply): void {
  if ('error' in reply) {
    const { message, status } = reply.error;
    send(res, status, `${goJson({ error: message, status })}\n`, 'text/plain; charset=utf-8', true);
  } else if ('json' in reply) {
    send(res, reply.status, goJson(reply.json), 'application/json');
  } else if ('text' in reply) {
    send(res, reply.status, reply.text, reply.type);
  } else {
    res.writeHead(reply.status).end();
  }
}

function send(res: ServerResponse, status: number, body: string, type: string, nosniff = false): void {
  const headers: Record<string, string | number> = {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
  };
  if (nosniff) headers['X-Content-Type-Options'] = 'nosniff';
  res.writeHead(status, headers).end(body);
}

type Match = { route: Route; params: Record<string, string> } | 'not-found' | 'method-not-allowed';

/** A path that matches no row is 404; one that matches rows none of which takes the method, 405. */
function matchRoute(routes: readonly Route[], method: string, url: string): Match {
  const segments = pathSegments(url);
  if (!segments) return 'not-found';
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, segments);
    if (!params) continue;
    pathMatched = true;
    if (route.methods.includes(method)) return { route, params };
  }
  return pathMatched ? 'method-not-allowed' : 'not-found';
}

function pathSegments(url: string): string[] | undefined {
  const rawPath = url.split('?', 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  // Names are matched on the decoded path, as gorilla/mux does: `a%2Fb` is unreachable.
  if (!path.startsWith('/')) return undefined;
  return path.slice(1).split('/');
}

function matchPath(pattern: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = pattern.slice(1).split('/');
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    if (!part.startsWith('{')) {
      if (part !== segment) return undefined;
    } else if (segment === '') {
      return undefined;
    } else {
      params[part.slice(1, -1)] = segment;
    }
  }
  return params;
}

/** The raw bytes: Go reports a syntax error on the byte it saw, not on a decoded character. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
