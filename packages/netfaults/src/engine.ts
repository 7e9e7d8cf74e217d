// Does a container engine answer through testcontainers (Docker, or Podman via DOCKER_HOST)?
import { askEngine, DEFAULT_ENGINE_SOCKET, type EngineAnswer, engineEndpoint } from '@faultline/evidence';
import { getContainerRuntimeClient } from 'testcontainers';

export interface ContainerEngine {
  ok: true;
  /** e.g. "Podman Engine 4.3.1" or "Docker Engine - Community 27.5.1". */
  name: string;
  podman: boolean;
  /** The endpoint testcontainers uses (DOCKER_HOST or the default socket). */
  endpoint: string;
}

export interface NoContainerEngine {
  ok: false;
  reason: string;
}

export type EngineProbe = ContainerEngine | NoContainerEngine;

type VersionAnswer = { name: string; version: string } | { error: string };

/** GET /version on the engine, within `timeoutMs`; undefined when it cannot be asked directly (TLS, ssh). */
async function engineVersion(timeoutMs: number): Promise<VersionAnswer | undefined> {
  const target = engineEndpoint();
  if (!target) return undefined;
  let answer: EngineAnswer;
  try {
    answer = await askEngine(target, 'GET', '/version', AbortSignal.timeout(timeoutMs));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message) };
  }
  try {
    const v = JSON.parse(answer.body) as { Version?: string; Components?: Array<{ Name?: string }> };
    return { name: v.Components?.[0]?.Name ?? 'Docker-compatible engine', version: v.Version ?? '?' };
  } catch {
    return { error: `HTTP ${answer.status} without a JSON body` };
  }
}

function describeEndpoint(): string {
  return process.env.DOCKER_HOST
    ? `DOCKER_HOST=${process.env.DOCKER_HOST}`
    : `DOCKER_HOST unset, default ${DEFAULT_ENGINE_SOCKET}`;
}

let cached: { key: string; probe: ContainerEngine } | undefined;

/**
 * Asks testcontainers for a container runtime (it tries DOCKER_HOST, ~/.testcontainers.properties,
 * the default sockets), bounded by `timeoutMs`. A working answer is cached per DOCKER_HOST.
 */
export async function detectContainerEngine(timeoutMs = 15_000): Promise<EngineProbe> {
  const key = process.env.DOCKER_HOST ?? '';
  if (cached?.key === key) return cached.probe;
  let timer: NodeJS.Timeout | undefined;
  try {
    // An explicit DOCKER_HOST is authoritative: testcontainers would otherwise fall back to
    // the default sockets and run somewhere the user did not point it at.
    const explicit = process.env.DOCKER_HOST ? await engineVersion(Math.min(timeoutMs, 5000)) : undefined;
    if (explicit && 'error' in explicit) {
      throw new Error(`the engine API does not answer GET /version (${explicit.error})`);
    }
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
      }),
    ]);
    const version = explicit ?? (await engineVersion(Math.min(timeoutMs, 5000)));
    const name =
      version && 'name' in version
        ? `${version.name} ${version.version}`
        : `engine ${client.info.containerRuntime.serverVersion} (${client.info.containerRuntime.operatingSystem})`;
    const endpoint = process.env.DOCKER_HOST ?? `unix://${DEFAULT_ENGINE_SOCKET}`;
    const probe: ContainerEngine = { ok: true, name, podman: /podman/i.test(`${name} ${endpoint}`), endpoint };
    cached = { key, probe };
    return probe;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: `no container engine answers through testcontainers (${describeEndpoint()}): ${message}`,
    };
  } finally {
    clearTimeout(timer);
  }
}
