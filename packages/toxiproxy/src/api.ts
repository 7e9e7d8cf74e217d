// The HTTP API with Toxiproxy v2.12's routes, status codes, bodies and headers (see
// /work/shared/reference/toxiproxy-semantics.md §1–2). Only node:http is used.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyCollection } from './collection.ts';
import { asObject, boolField, goJson, parseBody, stringField } from './decode.ts';
import { type ApiError, missingField, toApiError } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { requestId } from './request-id.ts';

export interface ApiOptions {
  collection: ProxyCollection;
  version: string;
  /** Set when proxy metrics are on; `/metrics` is routed only then. */
  metrics: Metrics | undefined;
}

type Reply =
  | { status: number; json: unknown }
  | { status: number; text: string; type: string }
  | { status: 204 }
  | { error: ApiError };

interface Request {
  params: string[];
  body(): Promise<unknown>;
}

type Handler = (request: Request) => Promise<Reply>;

interface Route {
  /** Path segments after the leading slash; `*` matches one non-empty segment. */
  pattern: string[];
  methods: Record<string, Handler>;
}

const json = (status: number, value: unknown): Reply => ({ status, json: value });

export function createApiHandler(options: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { collection, version, metrics } = options;
  // Mutations are serialized, like the real server's collection and proxy locks.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized =
    (handler: Handler): Handler =>
    (request) => {
      const run = queue.then(() => handler(request));
      queue = run.catch(() => undefined);
      return run;
    };

  const routes: Route[] = [
    {
      pattern: ['reset'],
      methods: {
        POST: serialized(async () => {
          for (const proxy of collection.list()) {
            if (!proxy.enabled) await proxy.start();
            await proxy.toxics.reset();
          }
          return { status: 204 };
        }),
      },
    },
    {
      pattern: ['proxies'],
      methods: {
        GET: async () => json(200, Object.fromEntries(collection.list().map((p) => [p.name, p.toJSON()]))),
        POST: serialized(async (request) => {
          const input = asObject(await request.body(), 'toxiproxy.Proxy');
          const name = stringField(input, 'name', 'Proxy') ?? '';
          const listen = stringField(input, 'listen', 'Proxy') ?? '';
          const upstream = stringField(input, 'upstream', 'Proxy') ?? '';
          const enabled = boolField(input, 'enabled', 'Proxy') ?? true;
          if (name === '') throw missingField('name');
          if (upstream === '') throw missingField('upstream');
          const proxy = collection.create(name, listen, upstream);
          await collection.add(proxy, enabled);
          return json(201, proxy.toJSON());
        }),
      },
    },
    {
      pattern: ['populate'],
      methods: {
        POST: serialized(async (request) => {
          let body: unknown;
          try {
            body = await request.body();
          } catch (error) {
            return populateReply(toApiError(error), null);
          }
          const result = await collection.populate(body);
          const proxies = result.proxies?.map((p) => p.toJSON()) ?? null;
          if (result.error) return populateReply(result.error, proxies);
          // Deviation: the real server answers `{"proxies":null}` for `[]`, which crashes
          // toxiproxy-node-client's populate(); an empty array is what every client expects.
          return json(201, { proxies: proxies ?? [] });
        }),
      },
    },
    {
      pattern: ['proxies', '*'],
      methods: {
        GET: async ({ params }) => json(200, collection.get(params[0]!).toJSON()),
        POST: serialized(updateProxy),
        PATCH: serialized(updateProxy),
        DELETE: serialized(async ({ params }) => {
          collection.remove(params[0]!);
          return { status: 204 };
        }),
      },
    },
    {
      pattern: ['proxies', '*', 'toxics'],
      methods: {
        GET: async ({ params }) => json(200, collection.get(params[0]!).toxics.list()),
        POST: serialized(async ({ params, body }) => {
          const proxy = collection.get(params[0]!);
          return json(200, await proxy.toxics.add(await body()));
        }),
      },
    },
    {
      pattern: ['proxies', '*', 'toxics', '*'],
      methods: {
        GET: async ({ params }) => json(200, collection.get(params[0]!).toxics.get(params[1]!)),
        POST: serialized(updateToxic),
        PATCH: serialized(updateToxic),
        DELETE: serialized(async ({ params }) => {
          await collection.get(params[0]!).toxics.remove(params[1]!);
          return { status: 204 };
        }),
      },
    },
    {
      pattern: ['version'],
      methods: {
        GET: async () => ({
          status: 200,
          text: `{"version": "${version}"}\n`,
          type: 'application/json;charset=utf-8',
        }),
      },
    },
  ];
  if (metrics) {
    routes.push({
      pattern: ['metrics'],
      methods: {
        GET: async () => ({ status: 200, text: metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' }),
      },
    });
  }

  async function updateProxy({ params, body }: Request): Promise<Reply> {
    const proxy = collection.get(params[0]!);
    const input = asObject(await body(), 'toxiproxy.Proxy');
    const listen = stringField(input, 'listen', 'Proxy') ?? proxy.listen;
    const upstream = stringField(input, 'upstream', 'Proxy') ?? proxy.upstream;
    const enabled = boolField(input, 'enabled', 'Proxy') ?? proxy.enabled;
    if (await proxy.differs(listen, upstream)) {
      proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
    }
    if (enabled && !proxy.enabled) await proxy.start();
    else if (!enabled) proxy.stop();
    return json(200, proxy.toJSON());
  }

  async function updateToxic({ params, body }: Request): Promise<Reply> {
    const proxy = collection.get(params[0]!);
    proxy.toxics.get(params[1]!);
    return json(200, await proxy.toxics.update(params[1]!, await body()));
  }

  return (req, res) => {
    handle(routes, req, res).catch((error: unknown) => {
      // Only reached when writing the response itself failed (client gone).
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

function populateReply(error: ApiError, proxies: unknown[] | null): Reply {
  return { status: error.status, json: { error: error.message, status: error.status, proxies } };
}

async function handle(routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const match = matchRoute(routes, req.url ?? '/');
  if (!match) {
    // Unrouted paths get Go's NotFound, without the request-id middleware.
    send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8', true);
    req.resume();
    return;
  }
  const handler = match.route.methods[req.method ?? ''];
  if (!handler) {
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
  let bodyText: Promise<Buffer> | undefined;
  const request: Request = {
    params: match.params,
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

function matchRoute(routes: Route[], url: string): { route: Route; params: string[] } | undefined {
  const rawPath = url.split('?', 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  // Names are matched on the decoded path, as gorilla/mux does: `a%2Fb` is unreachable.
  if (!path.startsWith('/')) return undefined;
  const segments = path.slice(1).split('/');
  for (const route of routes) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    const ok = route.pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part !== '*') return part === segment;
      params.push(segment);
      return segment !== '';
    });
    if (ok) return { route, params };
  }
  return undefined;
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
