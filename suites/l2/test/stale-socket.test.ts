// stale-socket: kill -9 a real daemon, so its control socket and pid lock stay behind; the next
// start on the same config must clean both and serve. A live owner must make a second start
// refuse with exit 75 and a message that says who owns what.
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { expectExit, sendSignal, waitForExit, waitForLine } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  freshConfig,
  httpRequest,
  launchDaemon,
  logEvents,
  sha256,
  startDaemon,
  status,
  stopDaemon,
  type TestConfig,
  useDaemonCleanup,
  writeMedia,
} from './helpers.ts';

useDaemonCleanup();

/** Does anything accept a connection on this unix socket? */
function socketAnswers(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const lockOwner = (config: TestConfig) => JSON.parse(readFileSync(config.lockFile, 'utf8')) as { pid: number };

test('after kill -9 the next start cleans the stale socket and lock; a live owner is refused with 75', {
  tags: ['stale-socket'],
}, async () => {
  const config = await freshConfig();
  const sum = await writeMedia(config.media, 'a.bin', 50_000);
  const first = await startDaemon(config, { name: 'media-cache-1' });
  expect(lockOwner(config).pid).toBe(first.pid);

  // A live owner: the second start is refused, clearly, and the owner is untouched.
  const second = launchDaemon(config, { name: 'media-cache-2' });
  const refused = await waitForExit(second, { timeoutMs: 15_000 });
  expect(refused).toEqual({ code: 75, signal: null });
  const message = second.tail('stderr');
  console.log(`[stale-socket] live owner → exit 75: ${second.lines('stderr').at(-1)}`);
  expect(message).toContain(`refusing to start: another media-cache (pid ${first.pid}) owns ${config.lockFile}`);
  expect(message).toContain(config.socket);
  expect((await status(first)).pid).toBe(first.pid);

  // kill -9: no handler runs, so socket and lock are left behind
  sendSignal(first.proc, 'SIGKILL', { context: 'so its control socket and pid lock stay behind' });
  await expectExit(first.proc, { signal: 'SIGKILL' });
  expect(existsSync(config.socket)).toBe(true);
  expect(existsSync(config.lockFile)).toBe(true);
  expect(lockOwner(config).pid).toBe(first.pid);
  expect(await socketAnswers(config.socket)).toBe('ECONNREFUSED');

  // restart on the same config: stale state cleaned, serving again
  const third = await startDaemon(config, { name: 'media-cache-3' });
  const s = await status(third);
  console.log(`[stale-socket] restart after kill -9: startup.stale = ${JSON.stringify(s.startup.stale)}`);
  expect(s.startup.stale).toEqual({ previousPid: first.pid, lockRemoved: true, socketRemoved: true });
  expect(logEvents(third.proc, 'stale-instance-cleaned')).toHaveLength(1);
  expect(lockOwner(config).pid).toBe(third.pid);
  expect(await socketAnswers(config.socket)).toBe('connected');
  const res = await httpRequest(`${third.url}/files/a.bin`);
  expect(res.status).toBe(200);
  expect(res.body.byteLength).toBe(50_000);
  expect(sha256(res.body)).toBe(sum);
  await stopDaemon(third);
  expect(existsSync(config.socket)).toBe(false);
  expect(existsSync(config.lockFile)).toBe(false);
});

test('after kill -9, a lock whose pid was reused by an unrelated live process is still recognised as stale', {
  tags: ['stale-socket'],
}, async () => {
  const config = await freshConfig();
  const first = await startDaemon(config);
  sendSignal(first.proc, 'SIGKILL', { context: 'then its pid lock is handed to a live, unrelated pid' });
  await expectExit(first.proc, { signal: 'SIGKILL' });
  // pid reuse: the lock names a live process (this test runner) that never answers on the socket,
  // and is older than the daemon's 10 s start-up grace
  const owner = JSON.parse(readFileSync(config.lockFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(config.lockFile, `${JSON.stringify({ ...owner, pid: process.pid })}\n`);
  const old = new Date(Date.now() - 60_000);
  utimesSync(config.lockFile, old, old);

  const next = await startDaemon(config);
  const s = await status(next);
  console.log(`[stale-socket] reused pid ${process.pid}: startup.stale = ${JSON.stringify(s.startup.stale)}`);
  expect(s.startup.stale).toEqual({ previousPid: process.pid, lockRemoved: true, socketRemoved: true });
  await stopDaemon(next);
});

// A kill -9 of an older media-cache could land between creating the lock and writing its owner,
// leaving an empty lock file. The next start must treat it as stale (locks are now published whole,
// so an unreadable one cannot belong to a live instance) instead of failing with EEXIST.
test('after a kill -9 that left an empty lock file, an immediate restart starts', {
  tags: ['stale-socket'],
}, async () => {
  const config = await freshConfig();
  const first = await startDaemon(config);
  first.proc.kill('SIGKILL', 'group');
  const died = await first.proc.exited;
  expect(died.signal).toBe('SIGKILL');
  writeFileSync(config.lockFile, ''); // as if the kill landed right after open(O_EXCL), before the owner JSON
  recordFault({
    kind: 'kill',
    name: 'media-cache',
    detail: 'SIGKILL, then an empty lock file left behind',
    attributes: { pid: first.proc.pid, signal: String(died.signal) },
  });
  const next = launchDaemon(config, { name: 'media-cache-restart' });
  const ready = await Promise.race([
    waitForLine(next, /^\{"event":"ready"/, { stream: 'stdout', timeoutMs: 10_000 }).then(() => 'ready'),
    next.exited.then((e) => `exited ${e.code ?? e.signal}: ${next.lines('stderr').at(-1)}`),
  ]);
  console.log(`[stale-socket] restart over an empty lock: ${ready}`);
  await stopDaemon(next).catch(() => {});
  expect(ready).toBe('ready');
});
