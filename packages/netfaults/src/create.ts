import { reportCapability } from '@faultline/evidence';
import type { StartedNetwork } from 'testcontainers';
import { type BackendRequest, type ContainerNetworking, resolveBackendRequest } from './backend.ts';
import { DEFAULT_TOXIPROXY_IMAGE, startContainers } from './containers.ts';
import { startEmbedded } from './embedded.ts';
import { detectContainerEngine } from './engine.ts';
import { NetworkEnvironment } from './environment.ts';
import { BackendUnavailableError } from './errors.ts';
import { normalizeApiUrl, parsePortRange, probeToxiproxy, startExternal, toxiproxyUrl } from './external.ts';

export interface NetworkEnvironmentOptions {
  /**
   * `auto` (external when a Toxiproxy URL is set, else containers when an engine answers and
   * the image is available, else embedded), `embedded`, `containers` or `external`. Default: env `FAULTLINE_L3_BACKEND` (set by `faultline run`
   * from `--backend` or the matrix layer's `backend`), else `auto`. Suites should leave it
   * unset so the runner decides.
   */
  backend?: BackendRequest;
  /** Containers: the Toxiproxy image. Default env `FAULTLINE_TOXIPROXY_IMAGE`, else `ghcr.io/shopify/toxiproxy:2.12.0`. */
  image?: string;
  /**
   * Containers: `host` (the container shares the host's network; proxies on 127.0.0.1 ports,
   * upstreams as on the host), `bridge` (mapped ports; host upstreams through
   * `TestContainers.exposeHostPorts`) or `auto` (default): env `FAULTLINE_CONTAINERS_HOST_NETWORK`
   * (`1`/`0`), else `bridge` with a `network`, else `host` on Podman and `bridge` on Docker.
   */
  networking?: ContainerNetworking | 'auto';
  /** Containers (bridge): join this network so upstreams can be other containers by alias. */
  network?: StartedNetwork;
  /** Containers (bridge + network): the Toxiproxy container's alias on it. Default `toxiproxy`. */
  networkAlias?: string;
  /** Containers (bridge): host ports to expose before the container starts (more are exposed on demand). */
  hostPorts?: number[];
  /** Containers: startup budget for the container and its API. Default 30 s. */
  startupTimeoutMs?: number;
  /** How long to wait for a container engine to answer. Default 15 s. */
  engineTimeoutMs?: number;
  /**
   * External: a running Toxiproxy server's API URL (`http://127.0.0.1:8474`). Default env
   * `FAULTLINE_TOXIPROXY_URL` (set by `faultline run` from `--toxiproxy-url` or the matrix layer's
   * `toxiproxyUrl`). When set, `auto` picks external.
   */
  toxiproxyUrl?: string;
  /**
   * External: the proxy ports the server publishes (`8666-8697`) when it runs in a container with
   * published ports; proxies then listen on `0.0.0.0:<a free port of the range>`. Default env
   * `FAULTLINE_TOXIPROXY_PORTS`, else the server picks a port (`127.0.0.1:0`, or `0.0.0.0:0` for a
   * server on another host).
   */
  proxyPorts?: string;
  /**
   * External: the host the server dials for a dependency given on loopback (`127.0.0.1:P` →
   * `<upstreamHost>:P`), e.g. `host.docker.internal`. Default env `FAULTLINE_TOXIPROXY_UPSTREAM_HOST`, else unchanged.
   */
  upstreamHost?: string;
}

/** The image the containers backend uses: the option, `FAULTLINE_TOXIPROXY_IMAGE`, or the real Toxiproxy 2.12.0. */
export function toxiproxyImage(option?: string): string {
  return option ?? (process.env.FAULTLINE_TOXIPROXY_IMAGE || undefined) ?? DEFAULT_TOXIPROXY_IMAGE;
}

function unavailable(reason: string, backend: 'containers' | 'external' = 'containers'): never {
  reportCapability('backend', backend);
  reportCapability('notRun', reason);
  throw new BackendUnavailableError(reason, backend);
}

const EXTERNAL_PROBE_MS = 5000;

/** The external backend on the URL; a server that does not answer or is not Toxiproxy is not-run. */
async function createExternal(options: NetworkEnvironmentOptions): Promise<NetworkEnvironment> {
  const url = toxiproxyUrl(options.toxiproxyUrl);
  if (!url) {
    unavailable(
      'no Toxiproxy URL is set (toxiproxyUrl on the matrix layer, FAULTLINE_TOXIPROXY_URL or faultline run --toxiproxy-url)',
      'external',
    );
  }
  const ports = options.proxyPorts ?? (process.env.FAULTLINE_TOXIPROXY_PORTS || undefined);
  try {
    const started = await startExternal({
      url,
      proxyPorts: ports === undefined ? undefined : parsePortRange(ports, 'FAULTLINE_TOXIPROXY_PORTS'),
      upstreamHost: options.upstreamHost ?? (process.env.FAULTLINE_TOXIPROXY_UPSTREAM_HOST || undefined),
      timeoutMs: EXTERNAL_PROBE_MS,
    });
    reportCapability('backend', 'external');
    if (started.shared) reportCapability('toxiproxyServer', started.shared.server);
    return new NetworkEnvironment(started);
  } catch (error) {
    if (error instanceof BackendUnavailableError) unavailable(error.reason, 'external');
    throw error;
  }
}

/**
 * Starts a layer-3 environment on the requested backend and reports it (`backend`,
 * `containerRuntime`, `toxiproxyServer` capabilities). When `containers` is requested and no
 * engine answers or the image cannot be obtained, or the external server does not answer or is
 * not Toxiproxy, reports `notRun` with the reason and throws `BackendUnavailableError` (never
 * falls back silently).
 */
export async function createNetworkEnvironment(options: NetworkEnvironmentOptions = {}): Promise<NetworkEnvironment> {
  const requested = resolveBackendRequest(options.backend);
  if (requested === 'external' || (requested === 'auto' && toxiproxyUrl(options.toxiproxyUrl))) {
    return createExternal(options);
  }
  if (requested === 'embedded') {
    const env = new NetworkEnvironment(await startEmbedded());
    reportCapability('backend', 'embedded');
    return env;
  }
  const engine = await detectContainerEngine(options.engineTimeoutMs);
  reportCapability('containerRuntime', engine.ok ? engine.name : false);
  if (!engine.ok) {
    if (requested === 'containers') unavailable(engine.reason);
    reportCapability('backendNote', `auto chose embedded: ${engine.reason}`);
    reportCapability('backend', 'embedded');
    return new NetworkEnvironment(await startEmbedded());
  }
  try {
    const started = await startContainers(engine, {
      image: toxiproxyImage(options.image),
      networking: options.networking ?? 'auto',
      network: options.network,
      networkAlias: options.networkAlias ?? 'toxiproxy',
      hostPorts: options.hostPorts,
      startupTimeoutMs: options.startupTimeoutMs ?? 30_000,
    });
    reportCapability('backend', 'containers');
    if (started.networking) reportCapability('containerNetworking', started.networking);
    if (started.image) reportCapability('toxiproxyImage', started.image);
    return new NetworkEnvironment(started);
  } catch (error) {
    if (!(error instanceof BackendUnavailableError)) throw error;
    if (requested === 'containers') unavailable(error.reason);
    reportCapability('backendNote', `auto chose embedded: ${error.reason}`);
    reportCapability('backend', 'embedded');
    return new NetworkEnvironment(await startEmbedded());
  }
}

export interface BackendAvailability {
  ok: boolean;
  detail: string;
}

/** external, when a Toxiproxy URL is set: whether a Toxiproxy answers there (version and address). */
async function detectExternal(option: string | undefined): Promise<BackendAvailability | undefined> {
  const url = toxiproxyUrl(option);
  if (!url) return undefined;
  try {
    const apiUrl = normalizeApiUrl(url);
    return { ok: true, detail: `Toxiproxy ${await probeToxiproxy(apiUrl, EXTERNAL_PROBE_MS)} at ${apiUrl}` };
  } catch (error) {
    if (error instanceof BackendUnavailableError) return { ok: false, detail: error.reason };
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * For `faultline doctor`: which layer-3 backends this machine can run, and why not; `external`
 * only when a Toxiproxy URL is set (option `toxiproxyUrl`, else `FAULTLINE_TOXIPROXY_URL`).
 */
export async function detectBackends(
  options: { engineTimeoutMs?: number; image?: string; toxiproxyUrl?: string } = {},
): Promise<{
  embedded: BackendAvailability;
  containers: BackendAvailability;
  external?: BackendAvailability;
}> {
  const external = await detectExternal(options.toxiproxyUrl);
  const withExternal = external ? { external } : {};
  const embedded: BackendAvailability = { ok: true, detail: '@faultline/toxiproxy in-process server' };
  try {
    const server = await startEmbedded();
    await server.close();
  } catch (error) {
    embedded.ok = false;
    embedded.detail = `@faultline/toxiproxy cannot start: ${error instanceof Error ? error.message : String(error)}`;
  }
  const engine = await detectContainerEngine(options.engineTimeoutMs ?? 5000);
  if (!engine.ok) return { embedded, containers: { ok: false, detail: engine.reason }, ...withExternal };
  const image = toxiproxyImage(options.image);
  const { getContainerRuntimeClient, ImageName } = await import('testcontainers');
  let present = false;
  try {
    present = await (await getContainerRuntimeClient()).image.exists(ImageName.fromString(image));
  } catch {
    present = false;
  }
  const networking = process.env.FAULTLINE_CONTAINERS_HOST_NETWORK
    ? `networking from FAULTLINE_CONTAINERS_HOST_NETWORK=${process.env.FAULTLINE_CONTAINERS_HOST_NETWORK}`
    : `${engine.podman ? 'host' : 'bridge'} networking`;
  return {
    embedded,
    ...withExternal,
    containers: {
      ok: true,
      detail: `${engine.name} at ${engine.endpoint}; image ${image} ${present ? 'present' : 'not present locally (pulled on first use; fails without a registry)'}; ${networking}`,
    },
  };
}
