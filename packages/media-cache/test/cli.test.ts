import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from 'vitest';
import {
  cleanupTemps,
  controlRequest,
  get,
  type StaticOrigin,
  startStaticOrigin,
  tempDir,
  waitFor,
} from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'media-cache.js');
const children: ChildProcess[] = [];
const servers: StaticOrigin[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  for (const s of servers.splice(0)) await s.close();
  await cleanupTemps();
});

interface Daemon {
  child: ChildProcess;
  ready: { event: string; http: string; control: string; pid: number; version: string };
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(configPath: string): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Daemon['exit'];
} {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function serve(configPath: string): Promise<Daemon> {
  const run = launch(configPath);
  let exited = false;
  void run.exit.then(() => (exited = true));
  await waitFor('the readiness line on stdout', () => exited || run.stdout().includes('\n'), 15_000);
  if (exited) throw new Error(`media-cache exited before ready; stderr:\n${run.stderr()}`);
  return { child: run.child, ready: JSON.parse(run.stdout().split('\n')[0]!), stderr: run.stderr, exit: run.exit };
}

async function writeConfig(dir: string, extra: Record<string, unknown> = {}): Promise<string> {
  await mkdir(join(dir, 'media'), { recursive: true });
  const path = join(dir, 'config.json');
  await writeFile(
    path,
    JSON.stringify(
      { cacheDir: 'cache', origins: [{ type: 'local', id: 'local', path: 'media' }], http: { port: 0 }, ...extra },
      null,
      2,
    ),
  );
  return path;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('media-cache serve (sig-term, stale-socket, panic-hook)', () => {
  test('prints the readiness line, serves, and on SIGTERM drains, removes socket and lock, exits 0', async () => {
    const dir = await tempDir();
    const data = randomBytes(100_000);
    const config = await writeConfig(dir);
    await writeFile(join(dir, 'media', 'a.bin'), data);
    const d = await serve(config);
    expect(d.ready).toMatchObject({ event: 'ready', control: join(dir, 'cache', 'control.sock'), pid: d.child.pid });
    expect(d.ready.http).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await get(`http://${d.ready.http}/files/a.bin`)).body.equals(data)).toBe(true);
    const status = (await controlRequest(d.ready.control, 'GET', '/')).json() as { pid: number; version: string };
    expect(status).toMatchObject({ pid: d.child.pid, version: d.ready.version });
    d.child.kill('SIGTERM');
    expect(await d.exit).toEqual({ code: 0, signal: null });
    expect(await exists(d.ready.control)).toBe(false);
    expect(await exists(join(dir, 'cache', 'media-cache.pid'))).toBe(false);
    expect(d.stderr()).toContain('"event":"shutdown-complete"');
  });

  test('a second signal during a slow drain exits at once with 130', async () => {
    const dir = await tempDir();
    const remote = await startStaticOrigin(join(dir, 'remote'));
    servers.push(remote);
    await mkdir(join(dir, 'remote'), { recursive: true });
    await writeFile(join(dir, 'remote', 'x.bin'), 'x');
    remote.mode = 'hang';
    const config = await writeConfig(dir, {
      origins: [{ type: 'http', id: 'remote', url: remote.url, filesPrefix: '' }],
      timeouts: { drainMs: 20_000, readMs: 30_000 },
    });
    const d = await serve(config);
    const stuck = get(`http://${d.ready.http}/files/x.bin`, {}, 30_000).catch(() => null);
    await waitFor('the read to be in flight', async () => {
      const s = (await controlRequest(d.ready.control, 'GET', '/')).json() as { inflight: { http: number } };
      return s.inflight.http === 1;
    });
    d.child.kill('SIGTERM');
    await waitFor('shutdown to begin', () => d.stderr().includes('"event":"shutdown-begin"'));
    const t = performance.now();
    d.child.kill('SIGINT');
    expect(await d.exit).toEqual({ code: 130, signal: null });
    expect(performance.now() - t).toBeLessThan(2000);
    await stuck;
  });

  test('after kill -9 the next start cleans the stale socket and lock; a live owner is refused with 75', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir);
    const first = await serve(config);

    const second = launch(config);
    expect((await second.exit).code).toBe(75);
    expect(second.stderr()).toMatch(/another media-cache \(pid \d+\) owns/);

    first.child.kill('SIGKILL');
    await first.exit;
    expect(await exists(first.ready.control)).toBe(true); // left behind by the kill

    const third = await serve(config);
    const status = (await controlRequest(third.ready.control, 'GET', '/')).json() as { startup: { stale: unknown } };
    expect(status.startup.stale).toEqual({ previousPid: first.child.pid, lockRemoved: true, socketRemoved: true });
    third.child.kill('SIGTERM');
    expect((await third.exit).code).toBe(0);
  });

  test('config errors exit 2 naming the file and the field', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, { cache: { chunkSize: -1 } });
    const run = launch(config);
    expect((await run.exit).code).toBe(2);
    expect(run.stderr()).toContain(`${config}: field "cache.chunkSize": expected an integer >= 1, got -1`);
    const usage = launch(join(dir, 'missing.json'));
    expect((await usage.exit).code).toBe(2);
    expect(usage.stderr()).toMatch(/missing\.json: cannot read the config file \(ENOENT\)/);
  });

  test('an uncaught exception is logged with its stack, then policy exit → 70; policy continue survives', async () => {
    const dir = await tempDir();
    const d = await serve(await writeConfig(dir, { unsafe: { allowRaise: true } }));
    await controlRequest(d.ready.control, 'PUT', '/actions/raise?kind=exception');
    expect((await d.exit).code).toBe(70);
    const line = d
      .stderr()
      .split('\n')
      .find((l) => l.includes('"event":"uncaught-exception"'));
    expect(line).toBeDefined();
    const record = JSON.parse(line!) as {
      level: string;
      error: { stack: string };
      policy: string;
      context: { state: string };
    };
    expect(record).toMatchObject({ level: 'fatal', policy: 'exit', context: { state: 'ready' } });
    expect(record.error.stack).toContain('raised on request');

    const dir2 = await tempDir();
    const c = await serve(await writeConfig(dir2, { unsafe: { allowRaise: true }, onUncaught: 'continue' }));
    await controlRequest(c.ready.control, 'PUT', '/actions/raise?kind=rejection');
    await waitFor('the rejection to be counted', async () => {
      const s = (await controlRequest(c.ready.control, 'GET', '/')).json() as {
        counters: { unhandledRejections: number };
      };
      return s.counters.unhandledRejections === 1;
    });
    await waitFor('the rejection log line', () => c.stderr().includes('"event":"unhandled-rejection"'));
    c.child.kill('SIGTERM');
    expect((await c.exit).code).toBe(0);
  });

  test('64 MiB downloads and uploads stream through with RSS growth < 16 MiB (stream-memory, quick)', async () => {
    const dir = await tempDir();
    const config = await writeConfig(dir, { cache: { chunkSize: 1024 * 1024, maxBytes: 256 * 1024 * 1024 } });
    const big = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await writeFile(join(dir, 'media', 'big.bin'), big);
    const d = await serve(config);
    const rss = async () =>
      Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${d.child.pid}/status`, 'utf8'))![1]) * 1024;
    const base = await rss();
    let peak = base;
    const sampler = setInterval(
      () =>
        void rss().then(
          (r) => (peak = Math.max(peak, r)),
          () => {},
        ),
      20,
    );
    try {
      for (let round = 0; round < 2; round++) {
        // round 0 fills the cache from the origin, round 1 is served from the cache
        const res = await fetch(`http://${d.ready.http}/files/big.bin`, { signal: AbortSignal.timeout(30_000) });
        let size = 0;
        for await (const chunk of res.body!) size += (chunk as Uint8Array).byteLength;
        expect(size).toBe(big.length);
      }
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`http://${d.ready.http}/files/up.bin`, { method: 'PUT' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        Readable.from(
          (function* () {
            for (let i = 0; i < big.length; i += 64 * 1024) yield big.subarray(i, i + 64 * 1024);
          })(),
        ).pipe(req);
      });
      expect(status).toBe(201);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - base).toBeLessThan(16 * 1024 * 1024); // buffering would cost 64 MiB+
    d.child.kill('SIGTERM');
    await d.exit;
  }, 40_000);
});
