// Where the container engine's Docker-compatible API is, and the label that ties a container to the
// runner attempt whose test started it. Two packages need them: @faultline/netfaults starts and labels
// containers, @faultline/runner removes those of an attempt it stopped (a SIGKILLed worker runs no exit
// hook). They live here because both depend on this package and it has no dependencies: the runner must
// never load testcontainers just to find a socket.

/** The environment variable every process of one runner attempt of one layer inherits (the runner sets it). */
export const ATTEMPT_ENV = 'FAULTLINE_ATTEMPT_ID';

/** The container label carrying the attempt id: the runner removes what carries its attempt's value. */
export const ATTEMPT_LABEL = 'dev.faultline.attempt';

/** The socket a Docker-compatible engine listens on when DOCKER_HOST is unset. */
export const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock';

/** A `node:http` request target for the engine's API: a unix socket, or a plain-TCP host. */
export type EngineEndpoint = { socketPath: string } | { host: string; port: number };

/**
 * Where the Docker-compatible API is (DOCKER_HOST `unix://` or plain `tcp://`, else the default socket);
 * undefined for hosts `node:http` cannot reach directly (TLS, ssh).
 */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint | undefined {
  const dockerHost = env.DOCKER_HOST;
  if (!dockerHost) return { socketPath: DEFAULT_ENGINE_SOCKET };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://') && !env.DOCKER_TLS_VERIFY) {
    const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
    return { host: url.hostname, port: Number(url.port || 2375) };
  }
  return undefined;
}

/** The status and body of one engine API call. */
export interface EngineAnswer {
  status: number;
  body: string;
}

/**
 * One call to the engine's API on a connection of its own (no pooled socket outlives it), bounded by
 * `signal`; rejects on a connection error or when `signal` aborts. node:http loads on the first call,
 * not with this package: on Node 24 it brings undici along, ~60 ms of every CLI start.
 */
export function askEngine(
  target: EngineEndpoint,
  method: string,
  path: string,
  signal: AbortSignal,
): Promise<EngineAnswer> {
  const { request } = process.getBuiltinModule('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, signal, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The labels a container started by a test should carry: its attempt's, when the runner set one. */
export function attemptLabels(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const id = env[ATTEMPT_ENV];
  return id ? { [ATTEMPT_LABEL]: id } : {};
}
