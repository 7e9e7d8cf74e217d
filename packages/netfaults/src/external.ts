// The external backend: a Toxiproxy server someone else runs (docker-compose, a GitHub Actions
// `services:` container, a `faultline-toxiproxy` process). The server is shared, so the
// environment never calls `/reset`, names every proxy it creates with its own prefix and deletes
// only those (on close, and from an exit/signal hook, see cleanup.ts). A server that does not
// answer, or answers with something that is not Toxiproxy, is a BackendUnavailableError: the
// cells are not-run with the reason.
import { randomBytes } from 'node:crypto';
import { isLocalHost, joinHostPort, type StartedBackend, splitHostPort } from './backend.ts';
import { BackendUnavailableError } from './errors.ts';

export interface ExternalOptions {
  /** The server's API URL, e.g. `http://127.0.0.1:8474`. */
  url: string;
  /** Published proxy ports (`8666-8697`): proxies listen on `0.0.0.0:<free port of the range>`. */
  proxyPorts: PortRange | undefined;
  /** Replaces a loopback upstream's host (`host.docker.internal` when the server runs in a container). */
  upstreamHost: string | undefined;
  /** Budget for each probe request. */
  timeoutMs: number;
}

export interface PortRange {
  first: number;
  last: number;
}

/** The external server's API URL: the option, else `FAULTLINE_TOXIPROXY_URL`; undefined when neither is set. */
export function toxiproxyUrl(option?: string): string | undefined {
  return option || process.env.FAULTLINE_TOXIPROXY_URL || undefined;
}

/** `8666-8697` (or one port) → a range; throws a TypeError naming `where` for anything else. */
export function parsePortRange(text: string, where: string): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
  const first = Number(m?.[1]);
  const last = Number(m?.[2] ?? m?.[1]);
  if (!m || first < 1 || last > 65535 || first > last) {
    throw new TypeError(`${where}: expected a port range such as 8666-8697, got "${text}"`);
  }
  return { first, last };
}

/** Checks the URL's form (a configuration error, not a not-run) and drops a trailing slash. */
export function normalizeApiUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Toxiproxy URL: "${url}" is not a URL (expected e.g. http://127.0.0.1:8474)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`Toxiproxy URL: "${url}" must be http:// or https://`);
  }
  return url.replace(/\/+$/, '');
}

function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as (Error & { code?: string }) | undefined;
  if (error.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? error.message;
}

async function getText(url: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'faultline' } });
  return { status: res.status, text: await res.text() };
}

/** `{"version": "2.12.0"}` (2.x) or a bare version line (older servers); undefined for anything else. */
function parseVersion(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && 'version' in body && typeof body.version === 'string') return body.version;
    return undefined;
  } catch {
    const line = text.trim();
    return /^v?\d+\.\d+[\w.+-]*$|^git$/.test(line) ? line : undefined;
  }
}

function notToxiproxy(apiUrl: string, what: string): BackendUnavailableError {
  return new BackendUnavailableError(`the server at ${apiUrl} is not Toxiproxy: ${what}`, 'external');
}

/** `GET /version` and `GET /proxies` as Toxiproxy answers them; returns the version. */
export async function probeToxiproxy(apiUrl: string, timeoutMs: number): Promise<string> {
  let version: { status: number; text: string };
  try {
    version = await getText(`${apiUrl}/version`, timeoutMs);
  } catch (error) {
    throw new BackendUnavailableError(
      `no Toxiproxy server answers at ${apiUrl} (GET /version: ${causeOf(error)})`,
      'external',
    );
  }
  const short = JSON.stringify(version.text.slice(0, 80));
  if (version.status !== 200) throw notToxiproxy(apiUrl, `GET /version answered HTTP ${version.status} ${short}`);
  const found = parseVersion(version.text);
  if (found === undefined) throw notToxiproxy(apiUrl, `GET /version answered ${short}`);
  let proxies: { status: number; text: string };
  try {
    proxies = await getText(`${apiUrl}/proxies`, timeoutMs);
  } catch (error) {
    throw notToxiproxy(apiUrl, `GET /proxies: ${causeOf(error)}`);
  }
  if (proxies.status !== 200 || !isProxyMap(proxies.text)) {
    throw notToxiproxy(
      apiUrl,
      `GET /proxies answered HTTP ${proxies.status} ${JSON.stringify(proxies.text.slice(0, 80))}`,
    );
  }
  return found;
}

function isProxyMap(text: string): boolean {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null && !Array.isArray(body);
  } catch {
    return false;
  }
}

/** Ports of the range no proxy on the server listens on (any owner's), in order. */
async function freePortsOf(apiUrl: string, range: PortRange, timeoutMs: number): Promise<number[]> {
  const { text } = await getText(`${apiUrl}/proxies`, timeoutMs);
  const used = new Set<number>();
  for (const p of Object.values(JSON.parse(text) as Record<string, { listen?: string }>)) {
    const port = Number(p.listen?.slice(p.listen.lastIndexOf(':') + 1));
    if (Number.isInteger(port)) used.add(port);
  }
  const free: number[] = [];
  for (let port = range.first; port <= range.last; port++) if (!used.has(port)) free.push(port);
  if (!free.length) throw new RangeError(`netfaults: every port of ${range.first}-${range.last} is taken on ${apiUrl}`);
  return free;
}

/** A fresh prefix per environment: `faultline-<8 hex>-`. */
export function proxyPrefix(): string {
  return `faultline-${randomBytes(4).toString('hex')}-`;
}

export async function startExternal(options: ExternalOptions): Promise<StartedBackend> {
  const apiUrl = normalizeApiUrl(options.url);
  const version = await probeToxiproxy(apiUrl, options.timeoutMs);
  const apiHost = new URL(apiUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  const local = isLocalHost(apiHost);
  const { proxyPorts: range, upstreamHost } = options;
  const listenHost = range || !local ? '0.0.0.0' : '127.0.0.1';
  const dialHost = local ? '127.0.0.1' : apiHost;
  return {
    backend: 'external',
    apiUrl,
    containerRuntime: undefined,
    image: undefined,
    networking: undefined,
    shared: { prefix: proxyPrefix(), server: `Toxiproxy ${version} at ${apiUrl}`, localPorts: local && !range },
    listenFor: async (_index, attempt = 0) => {
      if (!range) return `${listenHost}:0`;
      const free = await freePortsOf(apiUrl, range, options.timeoutMs);
      return `${listenHost}:${free[attempt % free.length]}`; // a retry skips the port that failed
    },
    addressOf: (listen) => ({ host: dialHost, port: splitHostPort(listen).port }),
    networkAddressOf: () => undefined,
    upstreamFor: async (upstream) => {
      const { host, port } = splitHostPort(upstream);
      return upstreamHost && isLocalHost(host) ? joinHostPort(upstreamHost, port) : upstream;
    },
    close: async () => undefined, // the environment deletes its own proxies; the server is not ours
  };
}
