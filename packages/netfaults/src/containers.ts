// The containers backend: a Toxiproxy container started through testcontainers.
import { createServer } from 'node:net';
import { attemptLabels } from '@faultline/evidence';
import { type StartedToxiProxyContainer, ToxiProxyContainer } from '@testcontainers/toxiproxy';
import {
  GenericContainer,
  getContainerRuntimeClient,
  ImageName,
  type StartedNetwork,
  type StartedTestContainer,
  TestContainers,
} from 'testcontainers';
import { type ContainerNetworking, isLocalHost, joinHostPort, type StartedBackend, splitHostPort } from './backend.ts';
import { trackContainer, untrackContainer } from './cleanup.ts';
import type { ContainerEngine } from './engine.ts';
import { BackendUnavailableError } from './errors.ts';

/** The image `@testcontainers/toxiproxy` 12.1 uses, overridable with `FAULTLINE_TOXIPROXY_IMAGE`. */
export const DEFAULT_TOXIPROXY_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';
const CONTROL_PORT = 8474;
const FIRST_PROXY_PORT = 8666; // @testcontainers/toxiproxy exposes 8666..8697
const PROXY_PORTS = 32;
const LABEL = 'dev.faultline.netfaults';

export interface ContainersOptions {
  image: string;
  networking: ContainerNetworking | 'auto';
  network: StartedNetwork | undefined;
  networkAlias: string;
  hostPorts: readonly number[] | undefined;
  startupTimeoutMs: number;
}

/** `host` when FAULTLINE_CONTAINERS_HOST_NETWORK says so or the engine is Podman; see README. */
export function chooseNetworking(
  requested: ContainerNetworking | 'auto',
  engine: ContainerEngine,
  network: StartedNetwork | undefined,
): ContainerNetworking {
  const env = process.env.FAULTLINE_CONTAINERS_HOST_NETWORK;
  let choice: ContainerNetworking;
  if (requested !== 'auto') choice = requested;
  else if (env === '1' || env === 'true') choice = 'host';
  else if (env === '0' || env === 'false') choice = 'bridge';
  else if (network) choice = 'bridge';
  else choice = engine.podman ? 'host' : 'bridge';
  if (choice === 'host' && network) {
    throw new TypeError(
      'netfaults: a container network cannot be joined with host networking; use networking: "bridge"',
    );
  }
  return choice;
}

/** Makes sure `image` exists locally, pulling it if needed; BackendUnavailableError when it cannot. */
export async function ensureImage(image: string): Promise<void> {
  const client = await getContainerRuntimeClient();
  const name = ImageName.fromString(image);
  if (await client.image.exists(name)) return;
  let detail = '';
  if (name.registry === 'localhost') {
    detail = ' (a localhost/ image is never pulled)';
  } else {
    try {
      await client.image.pull(name);
    } catch (error) {
      detail = `: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (!(await client.image.exists(name))) {
    throw new BackendUnavailableError(
      `image ${image} is not available locally and could not be pulled${detail || ' (no registry reachable?)'}; ` +
        'build the embedded server image (node packages/netfaults/scripts/build-image.ts) and set ' +
        'FAULTLINE_TOXIPROXY_IMAGE=localhost/faultline-toxiproxy:local',
    );
  }
}

/** A free TCP port on 127.0.0.1 (closed again before it is used: a small race, retried by the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForApi(apiUrl: string, container: StartedTestContainer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${apiUrl}/version`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  let logs = '';
  try {
    const stream = await container.logs({ tail: 20 });
    logs = await new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (c: Buffer | string) => {
        text += c.toString();
      });
      stream.on('end', () => resolve(text));
      setTimeout(() => resolve(text), 1000).unref();
    });
  } catch {
    // best effort
  }
  throw new Error(
    `netfaults: Toxiproxy in container ${container.getId().slice(0, 12)} did not answer ${apiUrl}/version within ${timeoutMs} ms (${last})${logs ? `; logs:\n${logs}` : ''}`,
  );
}

function seedArgs(): string[] {
  const seed = process.env.FAULTLINE_SEED;
  return seed && /^-?\d+$/.test(seed) ? [`-seed=${seed}`] : [];
}

async function stopContainer(container: StartedTestContainer): Promise<void> {
  try {
    await container.stop({ remove: true, timeout: 0 });
  } finally {
    untrackContainer(container.getId());
  }
}

export async function startContainers(engine: ContainerEngine, options: ContainersOptions): Promise<StartedBackend> {
  await ensureImage(options.image);
  const networking = chooseNetworking(options.networking, engine, options.network);
  // The attempt's label lets the runner remove the container when it SIGKILLs this process (an
  // interrupt, a layer timeout): no exit hook runs then.
  const labels = { [LABEL]: 'toxiproxy', [`${LABEL}.pid`]: String(process.pid), ...attemptLabels() };
  const identity = { backend: 'containers', containerRuntime: engine.name, image: options.image, networking } as const;
  if (networking === 'host') {
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const apiPort = await freePort();
      const container = await new GenericContainer(options.image)
        .withNetworkMode('host')
        .withCommand(['-host=127.0.0.1', `-port=${apiPort}`, '-proxy-metrics', ...seedArgs()])
        .withLabels(labels)
        .withStartupTimeout(options.startupTimeoutMs)
        .start();
      trackContainer(container.getId());
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      try {
        await waitForApi(apiUrl, container, options.startupTimeoutMs);
      } catch (error) {
        lastError = error; // most likely the port was taken in between: retry once with another
        await stopContainer(container).catch(() => undefined);
        continue;
      }
      return {
        ...identity,
        apiUrl,
        listenFor: () => '127.0.0.1:0',
        addressOf: (listen) => ({ host: '127.0.0.1', port: splitHostPort(listen).port }),
        networkAddressOf: () => undefined,
        upstreamFor: async (upstream) => upstream,
        close: () => stopContainer(container),
      };
    }
    throw lastError;
  }

  // bridge: @testcontainers/toxiproxy's container (ports 8474 and 8666..8697 mapped); host
  // dependencies through TestContainers.exposeHostPorts (its sshd forwarder must run before
  // the container starts so that host.testcontainers.internal resolves inside it).
  const exposeHost = options.hostPorts !== undefined || options.network === undefined;
  if (exposeHost) await TestContainers.exposeHostPorts(...(options.hostPorts ?? []));
  let builder = new ToxiProxyContainer(options.image)
    .withCommand(['-host=0.0.0.0', `-port=${CONTROL_PORT}`, '-proxy-metrics', ...seedArgs()])
    .withLabels(labels)
    .withStartupTimeout(options.startupTimeoutMs);
  if (options.network) builder = builder.withNetwork(options.network).withNetworkAliases(options.networkAlias);
  const container: StartedToxiProxyContainer = await builder.start();
  trackContainer(container.getId());
  const host = container.getHost();
  const apiUrl = `http://${joinHostPort(host, container.getMappedPort(CONTROL_PORT))}`;
  const exposed = new Set<number>(options.hostPorts ?? []);
  return {
    ...identity,
    apiUrl,
    listenFor: (index) => {
      if (index >= PROXY_PORTS)
        throw new RangeError(`netfaults: at most ${PROXY_PORTS} proxies per bridge environment`);
      return `0.0.0.0:${FIRST_PROXY_PORT + index}`;
    },
    addressOf: (listen) => ({ host, port: container.getMappedPort(splitHostPort(listen).port) }),
    networkAddressOf: (listen) =>
      options.network ? { host: options.networkAlias, port: splitHostPort(listen).port } : undefined,
    upstreamFor: async (upstream) => {
      const { host: upstreamHost, port } = splitHostPort(upstream);
      if (!isLocalHost(upstreamHost)) return upstream;
      if (!exposeHost) {
        throw new TypeError(
          `netfaults: upstream ${upstream} is on the host, but this bridge environment joined a network without hostPorts; pass hostPorts (or use host networking)`,
        );
      }
      if (!exposed.has(port)) {
        await TestContainers.exposeHostPorts(port);
        exposed.add(port);
      }
      return `host.testcontainers.internal:${port}`;
    },
    close: async () => {
      await stopContainer(container);
    },
  };
}
