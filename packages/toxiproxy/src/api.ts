// The HTTP API with Toxiproxy v2.12's routes, status codes, bodies and headers (see
// /work/shared/reference/toxiproxy-semantics.md §1–2). Only node:http is used. The route table
// mirrors api.go's `Routes()`: same paths, methods and handler names; handlers in
// api-handlers.ts, matching and response writing in api-router.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as api from './api-handlers.ts';
import { type ApiRequest, dispatch, type Handler, type Reply, type Route } from './api-router.ts';

export type { ApiOptions } from './api-handlers.ts';

interface RouteSpec {
  name: string;
  path: string;
  methods: readonly string[];
  handler: (options: api.ApiOptions, request: ApiRequest) => Promise<Reply>;
}

const READ = ['GET'];
const UPDATE = ['POST', 'PATCH'];

const ROUTES: readonly RouteSpec[] = [
  { name: 'ResetState', path: '/reset', methods: ['POST'], handler: api.resetState },
  { name: 'ProxyIndex', path: '/proxies', methods: READ, handler: api.proxyIndex },
  { name: 'ProxyCreate', path: '/proxies', methods: ['POST'], handler: api.proxyCreate },
  { name: 'Populate', path: '/populate', methods: ['POST'], handler: api.populate },
  { name: 'ProxyShow', path: '/proxies/{proxy}', methods: READ, handler: api.proxyShow },
  { name: 'ProxyUpdate', path: '/proxies/{proxy}', methods: UPDATE, handler: api.proxyUpdate },
  { name: 'ProxyDelete', path: '/proxies/{proxy}', methods: ['DELETE'], handler: api.proxyDelete },
  { name: 'ToxicIndex', path: '/proxies/{proxy}/toxics', methods: READ, handler: api.toxicIndex },
  { name: 'ToxicCreate', path: '/proxies/{proxy}/toxics', methods: ['POST'], handler: api.toxicCreate },
  { name: 'ToxicShow', path: '/proxies/{proxy}/toxics/{toxic}', methods: READ, handler: api.toxicShow },
  { name: 'ToxicUpdate', path: '/proxies/{proxy}/toxics/{toxic}', methods: UPDATE, handler: api.toxicUpdate },
  { name: 'ToxicDelete', path: '/proxies/{proxy}/toxics/{toxic}', methods: ['DELETE'], handler: api.toxicDelete },
  { name: 'Version', path: '/version', methods: READ, handler: api.version },
];

/** Routed only when proxy metrics are on, as the real server does. */
const METRICS_ROUTE: RouteSpec = { name: 'Metrics', path: '/metrics', methods: READ, handler: api.metrics };

export function createApiHandler(options: api.ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const specs = options.metrics ? [...ROUTES, METRICS_ROUTE] : ROUTES;
  const serialize = serializer();
  const routes: Route[] = specs.map((spec) => {
    const handler: Handler = (request) => spec.handler(options, request);
    // Mutations are serialized, like the real server's collection and proxy locks.
    const mutates = spec.methods.some((method) => method !== 'GET');
    return { ...spec, handler: mutates ? serialize(handler) : handler };
  });
  return (req, res) => {
    dispatch(routes, req, res).catch((error: unknown) => {
      // Only reached when writing the response itself failed (client gone).
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

/** Wraps handlers so that each runs after the previous wrapped one settled. */
function serializer(): (handler: Handler) => Handler {
  let queue: Promise<unknown> = Promise.resolve();
  return (handler) => (request) => {
    const run = queue.then(() => handler(request));
    queue = run.catch(() => undefined);
    return run;
  };
}
