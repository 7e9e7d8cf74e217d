import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cfg, remove } from '@faultline/failpoints';
import { afterEach, describe, expect, test } from 'vitest';
import {
  ActionQueue,
  ActionTimeoutError,
  ChunkStore,
  ConfigError,
  handleUncaught,
  MemoryLogger,
  Mutex,
  openIndex,
  parseRange,
  reconcile,
  resolveConfig,
  StatusBoard,
  Supervisor,
  sha256,
} from '../src/index.ts';
import { cleanupTemps, faultyFs, tempDir } from './helpers.ts';

afterEach(async () => {
  for (const name of ['chunk.before-write', 'chunk.after-write', 'db.open', 'task.flaky', 'action.run']) remove(name);
  await cleanupTemps();
});

describe('Mutex (lock-release)', () => {
  test('an exception inside the critical section never leaves the lock held', async () => {
    const mutex = new Mutex('test');
    await expect(
      mutex.withLock(async () => {
        throw new Error('boom inside');
      }),
    ).rejects.toThrow('boom inside');
    expect(mutex.locked).toBe(false);
    expect(() => mutex.withLock(() => 1)).not.toThrow();
    expect(await mutex.withLock(() => 42)).toBe(42);
    expect(mutex.acquisitions).toBe(3);
  });

  test('waiters run one at a time, in order, even when some throw', async () => {
    const mutex = new Mutex();
    const order: number[] = [];
    let inside = 0;
    const runs = [0, 1, 2, 3, 4].map((i) =>
      mutex
        .withLock(async () => {
          inside += 1;
          expect(inside).toBe(1);
          await new Promise((r) => setTimeout(r, 2));
          order.push(i);
          inside -= 1;
          if (i % 2 === 0) throw new Error(`fail ${i}`);
        })
        .catch(() => {}),
    );
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(mutex.locked).toBe(false);
    expect(mutex.waiting).toBe(0);
  });
});

describe('config', () => {
  test('fills defaults and resolves relative paths against the config file', () => {
    const config = resolveConfig(
      { cacheDir: 'cache', origins: [{ type: 'local', path: 'media' }] },
      '/etc/mc/config.json',
    );
    expect(config.cacheDir).toBe('/etc/mc/cache');
    expect(config.dbPath).toBe('/etc/mc/cache/index.db');
    expect(config.control.socket).toBe('/etc/mc/cache/control.sock');
    expect(config.origins[0]).toMatchObject({ id: 'origin-0', type: 'local', path: '/etc/mc/media', priority: 0 });
    expect(config.cache.chunkSize).toBe(1024 * 1024);
    expect(Object.values(config.unsafe).every((v) => v === false)).toBe(true);
  });

  test('errors name the file and the field', () => {
    expect(() => resolveConfig({ cacheDir: '/c', cache: { chunkSize: 'big' } }, '/x/mc.json')).toThrow(
      /\/x\/mc\.json: field "cache\.chunkSize": expected an integer >= 1, got "big"/,
    );
    expect(() => resolveConfig({ cacheDir: '/c', origins: [{ type: 'ftp' }] }, 'f.json')).toThrow(
      /field "origins\[0\]\.type"/,
    );
    expect(() => resolveConfig({ cacheDir: '/c', unsafe: { nope: true } })).toThrow(
      /field "unsafe\.nope": unknown field/,
    );
    expect(() => resolveConfig({})).toThrow(ConfigError);
  });
});

describe('ChunkStore', () => {
  test('writes atomically into a sharded dir and verifies on read', async () => {
    const dir = await tempDir();
    const store = new ChunkStore({ dir });
    const data = randomBytes(5000);
    const { hash } = await store.write(data);
    expect(hash).toBe(sha256(data));
    expect(store.pathFor(hash)).toBe(join(dir, hash.slice(0, 2), hash));
    expect(await readdir(join(dir, hash.slice(0, 2)))).toEqual([hash]); // no temp file left
    const read = await store.read(hash, 5000);
    expect(read.ok && read.data.equals(data)).toBe(true);

    await writeFile(store.pathFor(hash), Buffer.alloc(5000, 1));
    expect(await store.read(hash, 5000)).toEqual({ ok: false, reason: 'corrupt' });
    store.verify = false; // what unsafe.skipChunkVerify does
    expect((await store.read(hash, 5000)).ok).toBe(true);
    await store.remove(hash);
    expect(await store.read(hash)).toEqual({ ok: false, reason: 'missing' });
  });

  test('ENOSPC on write is reported with its code and leaves no temp file', async () => {
    const dir = await tempDir();
    const fs = faultyFs([{ op: 'write', code: 'ENOSPC' }]);
    const store = new ChunkStore({ dir, fs });
    await expect(store.write(randomBytes(100))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.hits).toBe(1);
    expect((await store.list()).length).toBe(0);
  });

  test('failpoint chunk.before-write=return(EIO) throws an EIO error', async () => {
    const store = new ChunkStore({ dir: await tempDir() });
    cfg('chunk.before-write', 'return(EIO)');
    await expect(store.write(randomBytes(10))).rejects.toMatchObject({ code: 'EIO' });
  });
});

describe('SQLite index (cache-integrity)', () => {
  test('a garbage file is quarantined and the index rebuilt, never a crash', async () => {
    const dir = await tempDir();
    const path = join(dir, 'index.db');
    await writeFile(path, randomBytes(8192));
    const opened = openIndex(path, { now: () => new Date('2026-01-02T03:04:05.678Z') });
    expect(opened.corruption).toMatch(/not a database|malformed|integrity/i);
    expect(opened.quarantinedTo).toBe(`${path}.corrupt-2026-01-02T03-04-05-678Z`);
    expect(opened.inMemory).toBe(false);
    expect(opened.index.fileCount()).toBe(0);
    opened.index.close();
    expect((await readdir(dir)).some((n) => n.includes('.corrupt-'))).toBe(true);
  });

  test('damaged pages fail integrity_check and are quarantined', async () => {
    const dir = await tempDir();
    const path = join(dir, 'index.db');
    const first = openIndex(path).index;
    for (let i = 0; i < 400; i++) first.insertChunk(`f${i}`, 0, sha256(Buffer.from(String(i))), 100);
    first.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    first.close();
    const bytes = await readFile(path);
    bytes.fill(0xff, 4096, 4096 * 3); // smash pages 2 and 3
    await writeFile(path, bytes);
    const opened = openIndex(path);
    expect(opened.corruption).not.toBeNull();
    expect(opened.quarantinedTo).not.toBeNull();
    expect(opened.index.chunkCount).toBe(0);
    opened.index.close();
  });

  test('failpoint db.open=return is handled like corruption', async () => {
    const dir = await tempDir();
    const path = join(dir, 'index.db');
    openIndex(path).index.close();
    cfg('db.open', '1*return(EIO)');
    const opened = openIndex(path);
    expect(opened.corruption).toMatch(/EIO/);
    expect(opened.quarantinedTo).not.toBeNull();
    opened.index.close();
  });

  test('chunk accounting and LRU order', async () => {
    const { index } = openIndex(join(await tempDir(), 'i.db'));
    expect(index.insertChunk('a', 0, 'h1', 10)).toBe(true);
    expect(index.insertChunk('a', 1, 'h2', 20)).toBe(true);
    expect(index.insertChunk('b', 0, 'h1', 10)).toBe(false); // shared chunk counts once
    expect(index.bytes).toBe(30);
    index.touch('h1');
    expect(index.lruChunks(10).map((c) => c.hash)).toEqual(['h2', 'h1']);
    expect(index.dropChunk('h1')).toBe(10);
    expect(index.getFileChunk('b', 0)).toBeUndefined();
    expect(index.bytes).toBe(20);
    index.close();
  });
});

describe('restart reconciliation (restart-reconcile)', () => {
  test('orphan chunk files are deleted and index rows without files dropped', async () => {
    const dir = await tempDir();
    const store = new ChunkStore({ dir: join(dir, 'chunks') });
    const { index } = openIndex(join(dir, 'index.db'));
    const kept = await store.write(Buffer.from('kept'));
    index.insertChunk('f', 0, kept.hash, 4);
    await store.write(Buffer.from('orphan: written, never indexed'));
    const gone = await store.write(Buffer.from('gone'));
    index.insertChunk('f', 1, gone.hash, 4);
    await store.remove(gone.hash);
    await mkdir(join(dir, 'chunks', 'ab'), { recursive: true });
    await writeFile(join(dir, 'chunks', 'ab', `${'ab'.repeat(32)}.tmp-1-x`), 'half');

    const report = await reconcile(store, index);
    expect(report).toMatchObject({ orphansDeleted: 1, missingDropped: 1, tempFilesDeleted: 1 });
    expect(index.allChunks().map((c) => c.hash)).toEqual([kept.hash]);
    expect((await store.list()).map((f) => f.hash)).toEqual([kept.hash]);
    expect(await reconcile(store, index)).toMatchObject({ orphansDeleted: 0, missingDropped: 0, tempFilesDeleted: 0 });
    index.close();
  });
});

describe('Supervisor (task-supervisor)', () => {
  const opts = { backoffInitialMs: 10, backoffMaxMs: 40, maxRestarts: 3 };

  test('a critical task that throws is restarted with backoff', async () => {
    const log = new MemoryLogger();
    const sup = new Supervisor({ ...opts, log });
    let runs = 0;
    const started: number[] = [];
    // started[] proves each restart really ran the task again
    sup.spawn({
      name: 'critical-one',
      critical: true,
      run: async (signal) => {
        runs += 1;
        started.push(performance.now());
        if (runs <= 2) throw new Error(`crash ${runs}`);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      },
    });
    await expect.poll(() => sup.task('critical-one')?.restarts, { timeout: 2000 }).toBe(2);
    expect(sup.task('critical-one')).toMatchObject({ state: 'running', failures: 2, lastError: 'crash 2' });
    expect(started).toHaveLength(3);
    expect(log.events('task-restarted').map((e) => e.afterMs)).toEqual([10, 20]); // exponential backoff
    expect(log.events('task-failed')[0]).toMatchObject({ task: 'critical-one', critical: true });
    expect((log.events('task-failed')[0]!.error as Error).stack).toContain('crash 1');
    expect(await sup.stop(1000)).toEqual([]);
    expect(sup.task('critical-one')?.state).toBe('stopped');
  });

  test('a non-critical failure is marked failed; a critical one gives up after maxRestarts', async () => {
    const sup = new Supervisor(opts);
    sup.spawn({ name: 'optional', critical: false, run: () => Promise.reject(new Error('nope')) });
    sup.spawn({
      name: 'always-crashes',
      critical: true,
      run: () => {
        throw new Error('sync throw');
      },
    });
    await expect.poll(() => sup.task('optional')?.state).toBe('failed');
    await expect.poll(() => sup.task('always-crashes')?.state, { timeout: 3000 }).toBe('failed');
    expect(sup.task('always-crashes')).toMatchObject({ restarts: 3, failures: 4 });
    await sup.stop(100);
  });

  test('failpoint task.<name>=1*panic crashes the first run only', async () => {
    cfg('task.flaky', '1*panic(injected)->off');
    const sup = new Supervisor(opts);
    sup.spawn({
      name: 'flaky',
      critical: true,
      run: (signal) => new Promise((r) => signal.addEventListener('abort', () => r())),
    });
    await expect.poll(() => sup.task('flaky')?.restarts).toBe(1);
    expect(sup.task('flaky')).toMatchObject({ state: 'running', lastError: 'injected' });
    await sup.stop(100);
  });
});

describe('ActionQueue', () => {
  test('runs actions one at a time and times out a stuck one', async () => {
    const q = new ActionQueue(1000);
    const log: string[] = [];
    const a = q.enqueue('a', async () => {
      log.push('a-start');
      await new Promise((r) => setTimeout(r, 30));
      log.push('a-end');
      return 1;
    });
    const b = q.enqueue('b', async () => {
      log.push('b');
      return 2;
    });
    expect(q.stats().queued).toBe(2);
    expect(await Promise.all([a, b])).toEqual([1, 2]);
    expect(log).toEqual(['a-start', 'a-end', 'b']);
    let aborted = false;
    await expect(
      q.enqueue('stuck', (signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))), 50),
    ).rejects.toBeInstanceOf(ActionTimeoutError);
    expect(aborted).toBe(true);
    expect(await q.enqueue('after', async () => 'ok')).toBe('ok');
    expect(q.stats()).toMatchObject({ completed: 3, timedOut: 1, running: null, queued: 0 });
  });
});

describe('small pieces', () => {
  test('parseRange', () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=2-4', 10)).toEqual({ kind: 'partial', start: 2, end: 4 });
    expect(parseRange('bytes=5-', 10)).toEqual({ kind: 'partial', start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
    expect(parseRange('bytes=8-100', 10)).toEqual({ kind: 'partial', start: 8, end: 9 });
    expect(parseRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=1-2,4-5', 10)).toEqual({ kind: 'full' });
  });

  test('StatusBoard swaps whole snapshots and rebuilds only when stale or invalidated', () => {
    let n = 0;
    const board = new StatusBoard(() => ({ n: ++n }), 60_000);
    expect(board.json()).toBe('{"n":1}');
    expect(board.json()).toBe('{"n":1}');
    board.invalidate();
    expect(board.get()).toEqual({ n: 2 });
  });

  test('handleUncaught logs the stack and context, then applies the policy (panic-hook)', () => {
    const log = new MemoryLogger();
    const exits: number[] = [];
    const error = new Error('kaboom');
    expect(
      handleUncaught('uncaughtException', error, {
        policy: 'exit',
        log,
        context: () => ({ inflight: 3 }),
        exit: (c) => exits.push(c),
      }),
    ).toBe('exit');
    expect(exits).toEqual([70]);
    const [record] = log.records;
    expect(record).toMatchObject({ level: 'fatal', event: 'uncaught-exception' });
    expect((record!.fields.error as Error).stack).toContain('kaboom');
    expect(record!.fields.context).toEqual({ inflight: 3 });
    expect(
      handleUncaught('unhandledRejection', 'plain reason', { policy: 'continue', log, exit: (c) => exits.push(c) }),
    ).toBe('continue');
    expect(exits).toEqual([70]);
    expect(log.records[1]).toMatchObject({ level: 'error', event: 'unhandled-rejection' });
  });
});
