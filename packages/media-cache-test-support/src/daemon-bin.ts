// The media-cache daemon as a child process, started through its bin with this process's Node
// (24: the .ts sources run directly), and its JSON readiness line.
import { join } from 'node:path';
import { type ManagedProcess, spawnManaged, waitForLine } from '@faultline/crash';

/** The daemon's launcher. */
export const MEDIA_CACHE_BIN = join(import.meta.dirname, '..', '..', 'media-cache', 'bin', 'media-cache.js');

/** `serve --config <configPath>`: the arguments that start the daemon on a config file. */
export function serveArgs(configPath: string): string[] {
  return ['serve', '--config', configPath];
}

/** Spawns `media-cache serve` (without waiting for readiness). */
export function spawnDaemon(
  configPath: string,
  options: { name?: string; env?: Record<string, string> } = {},
): ManagedProcess {
  return spawnManaged({ node: MEDIA_CACHE_BIN }, serveArgs(configPath), {
    name: options.name ?? 'media-cache',
    ...(options.env === undefined ? {} : { env: options.env }),
  });
}

export interface Readiness {
  event: 'ready';
  /** `127.0.0.1:PORT` */
  http: string;
  control: string;
  pid: number;
  version: string;
}

/** Waits (bounded) for the daemon's readiness line on stdout; it must name the spawned pid. */
export async function readiness(proc: ManagedProcess, timeoutMs = 15_000): Promise<Readiness> {
  const match = await waitForLine(proc, /^\{"event":"ready".*\}$/, { stream: 'stdout', timeoutMs });
  const ready = JSON.parse(match[0]) as Readiness;
  if (ready.pid !== proc.pid) throw new Error(`readiness line names pid ${ready.pid}, spawned pid ${proc.pid}`);
  return ready;
}
