// panic-hook, the real exit path: under `onUncaught: "exit"` the daemon must write its crash
// record (the fault, its stack, its context) BEFORE the process dies. The in-process tests inject
// `exit`, so they cannot see a handler that exits first; this one runs the real daemon as a child
// (its own bin, stderr to a log file as in production), makes it raise through
// `PUT /actions/raise`, and reads what the dead process left in its log.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordFault } from '@faultline/vitest';
import { afterEach, expect, test } from 'vitest';
import { brokenSwitches, cleanup, controlRequest, onCleanup, tempDir, withTimeout } from './helpers.ts';

afterEach(cleanup);

const BIN = join(import.meta.dirname, '..', '..', '..', 'packages', 'media-cache', 'bin', 'media-cache.js');

test('policy exit: the crash record with its stack is in the log before the process exits with 70', {
  tags: ['panic-hook'],
}, async () => {
  const dir = await tempDir();
  const config = join(dir, 'config.json');
  const socket = join(dir, 'c.sock');
  writeFileSync(
    config,
    JSON.stringify({
      cacheDir: join(dir, 'cache'),
      control: { socket },
      http: { port: 0 },
      onUncaught: 'exit',
      unsafe: { allowRaise: true, ...brokenSwitches() },
    }),
  );
  const logFile = join(dir, 'media-cache.log');
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
    stdio: ['ignore', 'pipe', openSync(logFile, 'w')],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 10_000, 'the media-cache child to be reaped');
  });
  let stdout = '';
  const out = child.stdout;
  if (out === null) throw new Error('spawn: no stdout pipe for the media-cache child');
  const ready = new Promise<void>((resolve, reject) => {
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('"event":"ready"')) resolve();
    });
    void exited.then(({ code }) =>
      reject(new Error(`media-cache exited (${code}) before ready: ${readFileSync(logFile, 'utf8')}`)),
    );
  });
  await withTimeout(ready, 20_000, 'the media-cache child to print its ready line');

  const reply = await controlRequest(socket, 'PUT', '/actions/raise?kind=exception');
  expect(reply.status).toBe(200);
  const exit = await withTimeout(exited, 10_000, 'the media-cache child to exit after the uncaught exception');
  const log = readFileSync(logFile, 'utf8');
  recordFault({
    kind: 'uncaught',
    name: 'uncaughtException',
    detail: `raised an uncaught exception in media-cache pid ${child.pid} (policy exit); it exited with ${exit.code ?? exit.signal}`,
    attributes: { pid: child.pid ?? 0, exit: String(exit.code ?? exit.signal) },
  });

  expect(exit.code).toBe(70);
  const record = log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.event === 'uncaught-exception');
  expect(record, `no crash record in the log the dead process left:\n${log.slice(-1500)}`).toBeDefined();
  expect(record).toMatchObject({ level: 'fatal', policy: 'exit', context: { state: 'ready' } });
  const error = record!.error as { message?: string; stack?: string };
  expect(error.message).toMatch(/raised on request/);
  expect(error.stack).toMatch(/\n\s+at /);
});
