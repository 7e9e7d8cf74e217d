// A real redis-server (Debian's, or REDIS_SERVER) on a free loopback port with its own temp dir,
// started through @faultline/crash so that it is reaped and covered by the orphan guard.
// AOF with fsync on every write: a SIGKILLed Redis comes back with every acknowledged job.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManagedProcess, spawnManaged, waitForExit, waitForLine } from '@faultline/crash';

export interface RedisServer {
  port: number;
  url: string;
  dir: string;
  proc: ManagedProcess;
  /** Starts a new redis-server on the same port and dir (after a kill), replacing `proc`. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM, bounded) and removes its dir. */
  stop(): Promise<void>;
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

async function launch(port: number, dir: string, persistent: boolean): Promise<ManagedProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push('--appendonly', 'yes', '--appendfsync', 'always');
  const proc = spawnManaged(BINARY, args, { name: 'redis-server', persistent });
  await waitForLine(proc, /Ready to accept connections/, { timeoutMs: 10_000 });
  return proc;
}

/**
 * `persistent`: shared by a file (stop it in afterAll), exempt from the per-test orphan check.
 * A missing binary fails with the spawn error: install Debian's redis-server or set REDIS_SERVER.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<RedisServer> {
  const persistent = options.persistent ?? false;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'redis-jobs-'));
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    proc: await launch(port, dir, persistent),
    async restart() {
      server.proc = await launch(port, dir, persistent);
    },
    async stop() {
      if (server.proc.running) server.proc.kill('SIGTERM', 'group');
      await waitForExit(server.proc, { timeoutMs: 10_000 });
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}
