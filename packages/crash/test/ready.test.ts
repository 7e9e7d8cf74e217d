import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  CrashError,
  installOrphanGuard,
  spawnManaged,
  waitFor,
  waitForLine,
  waitForPort,
  waitForSocket,
} from '../src/index.ts';
import { fixture, tempDir } from './helpers.ts';

installOrphanGuard(afterEach);
const tmp = tempDir();
afterAll(tmp.cleanup);

describe('readiness waits', () => {
  test('waits for a log line (with captures), a TCP port and a Unix socket', async () => {
    const socket = join(tmp.dir, 'ctl.sock');
    const server = spawnManaged({ node: fixture('server.ts') }, [socket, '150']);
    const match = await waitForLine(server, /listening on (\d+)/, { timeoutMs: 10_000 });
    const port = Number(match[1]);
    await waitForPort(port, { process: server });
    await waitForSocket(socket, { process: server });
    server.kill();
    await server.exited;
  });

  test('a line wait that times out says what it waited for, where, and the last output', async () => {
    const server = spawnManaged({ node: fixture('graceful.ts') });
    await waitForLine(server, 'ready');
    const error = await waitForLine(server, /never printed/, { timeoutMs: 200, stream: 'stdout' }).catch((e) => e);
    expect(error).toBeInstanceOf(CrashError);
    expect(error.kind).toBe('timeout');
    expect(error.message).toMatch(
      new RegExp(
        `waitForLine timed out after 200 ms waiting for /never printed/ on stdout of pid ${server.pid} \\(graceful.ts\\) \\(last output: ready\\)`,
      ),
    );
    server.kill();
    await server.exited;
  });

  test('a wait fails fast when the process exits first', async () => {
    const started = Date.now();
    const crasher = spawnManaged(process.execPath, ['-e', 'console.error("config missing"); process.exit(2)'], {
      name: 'crasher',
    });
    await expect(waitForLine(crasher, /listening/, { timeoutMs: 20_000 })).rejects.toThrow(
      /pid \d+ \(crasher\) exited with code 2 while waiting for \/listening\/ on stdout\/stderr \(last output: config missing\)/,
    );
    const other = spawnManaged('sh', ['-c', 'exit 4'], { name: 'sh-exit' });
    await expect(waitForPort(1, { process: other, timeoutMs: 20_000 })).rejects.toThrow(
      /\(sh-exit\) exited with code 4/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('port, socket and condition waits time out with what they waited for', async () => {
    await expect(waitForPort(1, { timeoutMs: 300 })).rejects.toThrow(
      /waitForPort timed out after 300 ms waiting for a TCP listener on 127\.0\.0\.1:1/,
    );
    await expect(waitForSocket(join(tmp.dir, 'none.sock'), { timeoutMs: 200 })).rejects.toThrow(
      /waitForSocket timed out after 200 ms waiting for a listener on Unix socket .*none\.sock/,
    );
    await expect(
      waitFor(
        'the cache to warm',
        () => {
          throw new Error('ECONNREFUSED');
        },
        { timeoutMs: 100 },
      ),
    ).rejects.toThrow(/waiting for the cache to warm; last attempt: ECONNREFUSED/);
    let n = 0;
    await expect(waitFor('n to reach 3', () => ++n >= 3 && n, { intervalMs: 1 })).resolves.toBe(3);
  });

  test('spawning a missing command fails with a clear message', () => {
    expect(() => spawnManaged('/definitely/not/here', [])).toThrow(/spawn \/definitely\/not\/here: no pid/);
  });
});
