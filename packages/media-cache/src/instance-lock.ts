import * as nodeFs from 'node:fs/promises';
import { connect } from 'node:net';
import { errorCode } from './errors.ts';

/** Another live media-cache owns this state dir / control socket. */
export class InstanceLockedError extends Error {
  override name = 'InstanceLockedError';
  readonly ownerPid: number | null;
  constructor(message: string, ownerPid: number | null) {
    super(message);
    this.ownerPid = ownerPid;
  }
}

export interface StaleCleanup {
  /** The pid in a lock file left by a dead owner (kill -9). */
  previousPid: number | null;
  lockRemoved: boolean;
  socketRemoved: boolean;
}

export interface InstanceLock {
  readonly file: string;
  readonly stale: StaleCleanup;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  startedAt: string;
  socket: string;
}

/** A lock this young whose owner is alive but not answering yet is a starting instance, not a stale one. */
const STARTING_GRACE_MS = 10_000;

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** Does something accept connections on this unix socket? */
export function socketAnswers(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function readOwner(file: string): Promise<Owner | null> {
  try {
    const owner = JSON.parse(await nodeFs.readFile(file, 'utf8')) as Owner;
    return typeof owner.pid === 'number' ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Takes the instance lock (`O_EXCL` pid file) and clears a stale control socket. A lock whose
 * owner is dead, or alive but not answering on its socket past a startup grace (pid reuse after
 * kill -9), is stale and removed; a live owner makes this throw InstanceLockedError.
 */
export async function acquireInstanceLock(
  file: string,
  socketPath: string,
  options: { staleCleanup?: boolean } = {},
): Promise<InstanceLock> {
  const stale: StaleCleanup = { previousPid: null, lockRemoved: false, socketRemoved: false };
  const owner: Owner = { pid: process.pid, startedAt: new Date().toISOString(), socket: socketPath };
  for (let attempt = 0; ; attempt++) {
    // Publish the lock whole: write the owner to a private temp file, then link it into place
    // (link fails with EEXIST like O_EXCL). A kill at any moment leaves either no lock or a
    // complete one, never an empty file that would look like an instance still starting.
    const temp = `${file}.${process.pid}.tmp`;
    try {
      const handle = await nodeFs.open(temp, 'w');
      try {
        await handle.writeFile(`${JSON.stringify(owner)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await nodeFs.link(temp, file);
      break;
    } catch (error) {
      if (errorCode(error) !== 'EEXIST' || attempt >= 3) throw error;
    } finally {
      await nodeFs.unlink(temp).catch(() => {});
    }
    const current = await readOwner(file);
    if (options.staleCleanup === false) {
      // unsafe.noStaleCleanup (test-only): any lock file counts as a live instance.
      throw new InstanceLockedError(
        `${file} exists (pid ${current?.pid ?? 'unknown'}); not checking whether it is stale`,
        current?.pid ?? null,
      );
    }
    const stat = await nodeFs.stat(file).catch(() => null);
    const ageMs = stat === null ? 0 : Date.now() - stat.mtimeMs;
    // An unreadable lock cannot belong to a live instance (locks are published whole): stale.
    if (current !== null && pidAlive(current.pid)) {
      const answers = await socketAnswers(current.socket);
      if (answers || ageMs < STARTING_GRACE_MS) {
        throw new InstanceLockedError(
          `another media-cache (pid ${current.pid}) owns ${file} and its control socket ${current.socket}; stop it first (SIGTERM) or use another stateDir`,
          current.pid,
        );
      }
    }
    stale.previousPid = current?.pid ?? null;
    await nodeFs.unlink(file).catch(() => {});
    stale.lockRemoved = true;
  }

  const lock: InstanceLock = {
    file,
    stale,
    async release() {
      const owner = await readOwner(file);
      if (owner?.pid === process.pid) await nodeFs.unlink(file).catch(() => {});
    },
  };
  try {
    await nodeFs.lstat(socketPath);
    if (await socketAnswers(socketPath)) {
      throw new InstanceLockedError(
        `something already answers on control socket ${socketPath}; stop it or configure another control.socket`,
        null,
      );
    }
    await nodeFs.unlink(socketPath);
    stale.socketRemoved = true;
  } catch (error) {
    if (error instanceof InstanceLockedError) {
      await lock.release();
      throw error;
    }
    if (errorCode(error) !== 'ENOENT') {
      await lock.release();
      throw error;
    }
  }
  return lock;
}
