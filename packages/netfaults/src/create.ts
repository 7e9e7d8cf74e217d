import { reportCapability } from '@faultline/evidence';
import type { StartedNetwork } from 'testcontainers';
import { type BackendRequest, type ContainerNetworking, resolveBackendRequest } from './backend.ts';
import { DEFAULT_TOXIPROXY_IMAGE, startContainers } from './containers.ts';
import { startEmbedded } from './embedded.ts';
import { detectContainerEngine } from './engine.ts';
import { NetworkEnvironment } from './environment.ts';
import { BackendUnavailableError } from './errors.ts';

export interface NetworkEnvironmentOptions {
  /**
   * `auto` (containers when an engine answers and the image is available, else embedded),
   * `embedded` or `containers`. Default: env `FAULTLINE_L3_BACKEND` (set by `faultline run`
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
}

/** The image the containers backend uses: the option, `FAULTLINE_TOXIPROXY_IMAGE`, or the real Toxiproxy 2.12.0. */
export function toxiproxyImage(option?: string): string {
  return option ?? (process.env.FAULTLINE_TOXIPROXY_IMAGE || undefined) ?? DEFAULT_TOXIPROXY_IMAGE;
}

function unavailable(reason: string): never {
  reportCapability('backend', 'containers');
  reportCapability('notRun', reason);
  throw new BackendUnavailableError(reason);
}

/**
 * Starts a layer-3 environment on the requested backend and reports it (`backend`,
 * `containerRuntime` capabilities). When `containers` is requested and no engine answers or
 * the image cannot be obtained, reports `notRun` with the reason and throws
 * `BackendUnavailableError` (never falls back silently).
 */
export async function createNetworkEnvironment(options: NetworkEnvironmentOptions = {}): Promise<NetworkEnvironment> {
  const requested = resolveBackendRequest(options.backend);
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

/** For `faultline doctor`: which layer-3 backends this machine can run, and why not. */
export async function detectBackends(
  options: { engineTimeoutMs?: number; image?: string } = {},
): Promise<{ embedded: BackendAvailability; containers: BackendAvailability }> {
  const embedded: BackendAvailability = { ok: true, detail: '@faultline/toxiproxy in-process server' };
  try {
    const server = await startEmbedded();
    await server.close();
  } catch (error) {
    embedded.ok = false;
    embedded.detail = `@faultline/toxiproxy cannot start: ${error instanceof Error ? error.message : String(error)}`;
  }
  const engine = await detectContainerEngine(options.engineTimeoutMs ?? 5000);
  if (!engine.ok) return { embedded, containers: { ok: false, detail: engine.reason } };
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
    containers: {
      ok: true,
      detail: `${engine.name} at ${engine.endpoint}; image ${image} ${present ? 'present' : 'not present locally (pulled on first use; fails without a registry)'}; ${networking}`,
    },
  };
}
