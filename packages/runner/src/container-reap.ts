// Containers are processes the kernel does not count as ours: a test's Toxiproxy container runs under the
// engine, not under the worker, so SIGKILLing the attempt's processes leaves it running, and the worker's
// exit hook that would remove it never runs. @faultline/netfaults labels every container it starts with
// the attempt id (ATTEMPT_LABEL); this removes what carries it, through the engine's HTTP API on its
// socket (plain node:http: the runner never loads testcontainers).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ATTEMPT_LABEL, askEngine, engineEndpoint } from '@faultline/evidence';

export interface ContainerReap {
  /** Ids of the containers removed. */
  removed: string[];
  /** Why nothing was removed without trying: no engine socket, an engine that does not answer. */
  skipped?: string;
  /** Containers the engine would not remove in time, with why (removal is best effort). */
  failed?: string[];
}

const reason = (error: unknown) =>
  error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);

/**
 * Force-removes (with their anonymous volumes) the containers labelled `ATTEMPT_LABEL=<attemptId>`,
 * within `timeoutMs` in all. No engine socket, an engine that does not answer, or a TLS/ssh DOCKER_HOST
 * means nothing is removed, quickly, saying why: an interrupted user is waiting.
 */
export async function reapAttemptContainers(
  attemptId: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ContainerReap> {
  const target = engineEndpoint(env);
  if (!target) return { removed: [], skipped: `DOCKER_HOST=${env.DOCKER_HOST} is not reachable over plain HTTP` };
  if ('socketPath' in target && !existsSync(target.socketPath)) {
    return { removed: [], skipped: `no engine socket at ${target.socketPath}` };
  }
  const signal = AbortSignal.timeout(timeoutMs);
  const filters = encodeURIComponent(JSON.stringify({ label: [`${ATTEMPT_LABEL}=${attemptId}`] }));
  let ids: string[];
  try {
    const list = await askEngine(target, 'GET', `/containers/json?all=1&filters=${filters}`, signal);
    if (list.status !== 200) return { removed: [], skipped: `listing containers answered HTTP ${list.status}` };
    ids = (JSON.parse(list.body) as Array<{ Id: string }>).map((c) => c.Id);
  } catch (error) {
    return { removed: [], skipped: `the engine did not list containers: ${reason(error)}` };
  }
  const removed: string[] = [];
  const failed: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      try {
        const r = await askEngine(target, 'DELETE', `/containers/${id}?force=true&v=true`, signal);
        // 404: gone meanwhile (the test's own close() won the race): not ours to count.
        if (r.status === 204 || r.status === 200) removed.push(id);
        else if (r.status !== 404) failed.push(`${id.slice(0, 12)}: HTTP ${r.status}`);
      } catch (error) {
        failed.push(`${id.slice(0, 12)}: ${reason(error)}`);
      }
    }),
  );
  return { removed, ...(failed.length ? { failed } : {}) };
}

/** The attempts running now (executeLayer tracks them): what a process about to exit at once must hand off. */
const live = new Set<string>();

export function trackAttempt(id: string): void {
  live.add(id);
}

export function untrackAttempt(id: string): void {
  live.delete(id);
}

// The child imports this very module (dist, or the source under a TypeScript-aware Node) and reaps.
const HAND_OFF = `const { reapAttemptContainers } = await import(process.argv[1]);
await Promise.all(JSON.parse(process.argv[2]).map((id) => reapAttemptContainers(id, 1500)));`;

/**
 * A second signal ends faultline at once, with no time to wait for the engine: a detached child, spawned
 * in a few ms, removes the live attempts' containers after we are gone. Nothing to hand off without an
 * engine socket. Returns whether a child was started.
 */
export function handOffContainerReap(): boolean {
  if (live.size === 0) return false;
  const target = engineEndpoint();
  if (!target || ('socketPath' in target && !existsSync(target.socketPath))) return false;
  try {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', HAND_OFF, import.meta.url, JSON.stringify([...live])],
      { detached: true, stdio: 'ignore' },
    );
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false; // No way to spawn now (EAGAIN, EMFILE): the exit must not wait for it.
  }
}
