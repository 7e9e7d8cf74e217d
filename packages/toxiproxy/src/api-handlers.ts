// One handler per route of Toxiproxy's HTTP API, named as its api.go names them (ProxyIndex,
// ToxicCreate, …). A handler returns its reply; what it throws becomes Go's error body (see
// api-router.ts). Status codes and bodies: /work/shared/reference/toxiproxy-semantics.md §2.
import { type ApiRequest, json, type Reply } from './api-router.ts';
import type { ProxyCollection } from './collection.ts';
import { asObject, boolField, stringField } from './decode.ts';
import { type ApiError, missingField, toApiError } from './errors.ts';
import type { Metrics } from './metrics.ts';

export interface ApiOptions {
  collection: ProxyCollection;
  version: string;
  /** Set when proxy metrics are on; `/metrics` is routed only then. */
  metrics: Metrics | undefined;
}

type ApiHandler = (api: ApiOptions, request: ApiRequest) => Promise<Reply>;

const NO_CONTENT: Reply = { status: 204 };

/** `POST /reset`: every proxy enabled again, every toxic removed. */
export const resetState: ApiHandler = async ({ collection }) => {
  for (const proxy of collection.list()) {
    if (!proxy.enabled) await proxy.start();
    await proxy.toxics.reset();
  }
  return NO_CONTENT;
};

/** `GET /proxies`: every proxy by name. */
export const proxyIndex: ApiHandler = async ({ collection }) =>
  json(200, Object.fromEntries(collection.list().map((p) => [p.name, p.toJSON()])));

/** `POST /proxies`: 201 with the proxy; `name` and `upstream` required, `enabled` defaults to true. */
export const proxyCreate: ApiHandler = async ({ collection }, { body }) => {
  const input = asObject(await body(), 'toxiproxy.Proxy');
  const name = stringField(input, 'name', 'Proxy') ?? '';
  const listen = stringField(input, 'listen', 'Proxy') ?? '';
  const upstream = stringField(input, 'upstream', 'Proxy') ?? '';
  const enabled = boolField(input, 'enabled', 'Proxy') ?? true;
  if (name === '') throw missingField('name');
  if (upstream === '') throw missingField('upstream');
  const proxy = collection.create(name, listen, upstream);
  await collection.add(proxy, enabled);
  return json(201, proxy.toJSON());
};

/** `POST /populate`: its own JSON body, with `proxies` next to the error (never Go's error body). */
export const populate: ApiHandler = async ({ collection }, { body }) => {
  let input: unknown;
  try {
    input = await body();
  } catch (error) {
    return populateReply(toApiError(error), null);
  }
  const result = await collection.populate(input);
  const proxies = result.proxies?.map((p) => p.toJSON()) ?? null;
  if (result.error) return populateReply(result.error, proxies);
  // Deviation: the real server answers `{"proxies":null}` for `[]`, which crashes
  // toxiproxy-node-client's populate(); an empty array is what every client expects.
  return json(201, { proxies: proxies ?? [] });
};

function populateReply(error: ApiError, proxies: unknown[] | null): Reply {
  return { status: error.status, json: { error: error.message, status: error.status, proxies } };
}

/** `GET /proxies/{proxy}`. */
export const proxyShow: ApiHandler = async ({ collection }, { params }) =>
  json(200, collection.get(params.proxy!).toJSON());

/** `POST`/`PATCH /proxies/{proxy}`: absent fields keep their values; a new address restarts it. */
export const proxyUpdate: ApiHandler = async ({ collection }, { params, body }) => {
  const proxy = collection.get(params.proxy!);
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
};

/** `DELETE /proxies/{proxy}`: 204. */
export const proxyDelete: ApiHandler = async ({ collection }, { params }) => {
  collection.remove(params.proxy!);
  return NO_CONTENT;
};

/** `GET /proxies/{proxy}/toxics`. */
export const toxicIndex: ApiHandler = async ({ collection }, { params }) =>
  json(200, collection.get(params.proxy!).toxics.list());

/** `POST /proxies/{proxy}/toxics`: 200 (not 201, as the real server) with the toxic. */
export const toxicCreate: ApiHandler = async ({ collection }, { params, body }) => {
  const proxy = collection.get(params.proxy!);
  return json(200, await proxy.toxics.add(await body()));
};

/** `GET /proxies/{proxy}/toxics/{toxic}`. */
export const toxicShow: ApiHandler = async ({ collection }, { params }) =>
  json(200, collection.get(params.proxy!).toxics.get(params.toxic!));

/** `POST`/`PATCH /proxies/{proxy}/toxics/{toxic}`: a missing toxic is 404 before the body is read. */
export const toxicUpdate: ApiHandler = async ({ collection }, { params, body }) => {
  const proxy = collection.get(params.proxy!);
  proxy.toxics.get(params.toxic!);
  return json(200, await proxy.toxics.update(params.toxic!, await body()));
};

/** `DELETE /proxies/{proxy}/toxics/{toxic}`: 204. */
export const toxicDelete: ApiHandler = async ({ collection }, { params }) => {
  await collection.get(params.proxy!).toxics.remove(params.toxic!);
  return NO_CONTENT;
};

/** `GET /version`: the real server's hand-written body and content type. */
export const version: ApiHandler = async (api) => ({
  status: 200,
  text: `{"version": "${api.version}"}\n`,
  type: 'application/json;charset=utf-8',
});

/** `GET /metrics` (routed only when metrics are on): Prometheus text. */
export const metrics: ApiHandler = async (api) => ({
  status: 200,
  text: api.metrics?.render() ?? '',
  type: 'text/plain; version=0.0.4; charset=utf-8',
});
