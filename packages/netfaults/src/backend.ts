// What a backend provides to the environment: a Toxiproxy API URL and the address mapping
// between what the server listens on and what the system under test dials.

export type BackendName = 'embedded' | 'containers' | 'external';
export type BackendRequest = 'auto' | BackendName;

export const BACKENDS: readonly BackendRequest[] = ['auto', 'embedded', 'containers', 'external'];

/** How the containers backend reaches dependencies (see README "Host networking"). */
export type ContainerNetworking = 'host' | 'bridge';

export interface HostPort {
  host: string;
  port: number;
}

/** @internal The started backend; NetworkEnvironment owns it and closes it once. */
export interface StartedBackend {
  readonly backend: BackendName;
  /** Base URL of the Toxiproxy HTTP API as seen from this process. */
  readonly apiUrl: string;
  /** e.g. "Podman Engine 4.3.1"; undefined for embedded. */
  readonly containerRuntime: string | undefined;
  /** The Toxiproxy image (containers only). */
  readonly image: string | undefined;
  /** containers only: host networking or a bridge network with mapped ports. */
  readonly networking: ContainerNetworking | undefined;
  /**
   * external only: the server is shared, so proxies get this environment's prefix and are
   * deleted on close (see external.ts); undefined where the server is the environment's own.
   */
  readonly shared?: {
    readonly prefix: string;
    readonly server: string;
    /** Proxy ports are on this machine's loopback, so a refuser can hold them (no published range). */
    readonly localPorts: boolean;
  };
  /** The `listen` to create the n-th proxy with (external: a free port of the published range). */
  listenFor(index: number, attempt?: number): string | Promise<string>;
  /** Where this process (the system under test) connects for a proxy that reports `listen`. */
  addressOf(listen: string): HostPort;
  /** Where a proxy on a container network is reachable from other containers on it (bridge + network). */
  networkAddressOf(listen: string): HostPort | undefined;
  /** Translates an upstream given by the test into one the server can dial. */
  upstreamFor(upstream: string): Promise<string>;
  close(): Promise<void>;
}

export function splitHostPort(address: string): HostPort {
  const i = address.lastIndexOf(':');
  if (i < 0) throw new TypeError(`expected host:port, got "${address}"`);
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`bad port in "${address}"`);
  return { host, port };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Loopback and wildcard hosts: a dependency "on this machine". */
export function isLocalHost(host: string): boolean {
  return host === 'localhost' || host === '0.0.0.0' || host === '::' || host === '::1' || host.startsWith('127.');
}

/** Reads `backend` from the option, else `FAULTLINE_L3_BACKEND`, else `auto`; rejects unknown values. */
export function resolveBackendRequest(option?: string): BackendRequest {
  const raw = option ?? (process.env.FAULTLINE_L3_BACKEND || undefined) ?? 'auto';
  if ((BACKENDS as readonly string[]).includes(raw)) return raw as BackendRequest;
  const where = option !== undefined ? 'backend option' : 'FAULTLINE_L3_BACKEND';
  throw new TypeError(`${where}: unknown layer-3 backend "${raw}" (expected one of ${BACKENDS.join(', ')})`);
}
