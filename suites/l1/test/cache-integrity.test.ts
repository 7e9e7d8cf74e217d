// cache-integrity: a corrupt or garbage SQLite index at startup is detected (open error or
// `PRAGMA integrity_check`), quarantined to `index.db.corrupt-<ts>` and rebuilt; the chunk files
// the old index named are reconciled away, and the daemon starts and serves correct bytes, never
// crashes. Faults: garbage written over the real index.db, pages of a real index.db overwritten
// (its header intact), and the `db.open` failpoint.
import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { count } from '@faultline/failpoints';
import { recordFault } from '@faultline/vitest';
import { afterEach, describe, expect, test } from 'vitest';
import {
  CHUNK,
  chunkFiles,
  cleanup,
  fail,
  httpGet,
  indexDiskMismatches,
  mediaBytes,
  startCache,
  stopCache,
  writeAndCache,
} from './helpers.ts';

afterEach(cleanup);

/** Starts, caches a few files, stops cleanly: a real index.db with rows and matching chunk files. */
async function populated() {
  const first = await startCache();
  const files = await writeAndCache(first, { 'a.bin': 3 * CHUNK, 'b.bin': 2 * CHUNK + 17, 'c.bin': CHUNK });
  const chunks = first.mc.index.chunkCount;
  expect(chunks).toBe(7);
  await stopCache(first.mc);
  const dbPath = join(first.cacheDir, 'index.db');
  return { dir: first.dir, dbPath, chunksDir: first.chunksDir, files, chunks };
}

async function servesAll(mc: { httpUrl: string }, files: Record<string, Buffer>) {
  for (const [name, data] of Object.entries(files)) {
    const reply = await httpGet(`${mc.httpUrl}/files/${name}`);
    expect(reply.status).toBe(200);
    expect(reply.body.equals(data)).toBe(true);
  }
}

describe('cache-integrity', () => {
  test('a garbage index.db is quarantined and rebuilt; orphaned chunks are reconciled', {
    tags: ['cache-integrity'],
  }, async () => {
    const { dir, dbPath, chunksDir, files, chunks } = await populated();
    const garbage = mediaBytes('not a database', 8192);
    await writeFile(dbPath, garbage);
    recordFault({
      kind: 'disk-corruption',
      name: 'index.db',
      detail: `overwrote ${dbPath} with 8 KiB of garbage`,
      attributes: { path: dbPath, bytes: garbage.byteLength },
    });

    const { mc } = await startCache({ dir });
    const db = mc.startup.db;
    expect(db.corruption).toMatch(/not a database|malformed|file is encrypted/i);
    expect(db.inMemory).toBe(false);
    expect(db.quarantinedTo).toMatch(/index\.db\.corrupt-/);
    expect((await readFile(db.quarantinedTo!)).equals(garbage)).toBe(true); // kept aside, untouched
    expect(mc.startup.reconcile).toMatchObject({ orphansDeleted: chunks, missingDropped: 0 });
    expect(mc.status().startup.db.quarantinedTo).toBe(db.quarantinedTo);
    expect(mc.state).toBe('ready');

    await servesAll(mc, files);
    expect(mc.index.chunkCount).toBe(chunks);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
  });

  test('an index.db with overwritten pages fails integrity_check and is rebuilt', {
    tags: ['cache-integrity'],
  }, async () => {
    const { dir, dbPath, chunksDir, files } = await populated();
    // Keep page 1 (the header and schema) and trash every later page: the file opens, its b-trees are broken.
    const { size } = await stat(dbPath);
    const pageSize = (await readFile(dbPath)).readUInt16BE(16);
    expect(size).toBeGreaterThan(pageSize);
    const handle = await open(dbPath, 'r+');
    try {
      await handle.write(mediaBytes('trash', size - pageSize), 0, size - pageSize, pageSize);
      await handle.sync();
    } finally {
      await handle.close();
    }
    recordFault({
      kind: 'disk-corruption',
      name: 'index.db',
      detail: `overwrote ${Math.round((size - pageSize) / pageSize)} page(s) after the header of ${dbPath}`,
      attributes: { path: dbPath, pageSize, bytes: size - pageSize },
    });

    const { mc } = await startCache({ dir });
    expect(mc.startup.db.corruption).not.toBeNull();
    expect(mc.startup.db.quarantinedTo).toMatch(/index\.db\.corrupt-/);
    expect(mc.startup.db.inMemory).toBe(false);
    await servesAll(mc, files);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
    // The rebuilt index is a real, healthy database file.
    const check = new DatabaseSync(dbPath, { readOnly: true });
    try {
      expect(check.prepare('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }]);
    } finally {
      check.close();
    }
  });

  test('the db.open failpoint (open error) quarantines the index instead of crashing', {
    tags: ['cache-integrity'],
  }, async () => {
    const { dir, dbPath, files, chunks } = await populated();
    fail('db.open', '1*return(EIO)');
    const { mc } = await startCache({ dir });
    expect(count('db.open')).toBe(1); // failed once; the fresh database then opened normally
    expect(mc.startup.db.corruption).toMatch(/EIO/);
    expect(mc.startup.db.quarantinedTo).toMatch(/index\.db\.corrupt-/);
    const quarantined = new DatabaseSync(mc.startup.db.quarantinedTo!, { readOnly: true });
    try {
      // The quarantined copy is the old, intact index: nothing was lost silently, it was set aside.
      expect(quarantined.prepare('SELECT COUNT(*) AS n FROM chunks').get()).toEqual({ n: chunks });
    } finally {
      quarantined.close();
    }
    expect(mc.startup.reconcile?.orphansDeleted).toBe(chunks);
    await servesAll(mc, files);
    const names = await readdir(join(dir, 'cache'));
    const base = mc.startup.db.quarantinedTo!.split('/').pop()!;
    // One quarantine: the database, with its -wal/-shm when it had them.
    expect(
      names
        .filter((n) => n.startsWith('index.db.corrupt-'))
        .every((n) => [base, `${base}-wal`, `${base}-shm`].includes(n)),
    ).toBe(true);
    expect(dbPath).toBe(mc.config.dbPath);
  });

  test('a database path that cannot be used at all falls back to an in-memory index', {
    tags: ['cache-integrity'],
  }, async () => {
    const { dir, files, chunksDir } = await populated();
    fail('db.open', 'return(EIO)'); // every open fails: the original and the rebuilt one
    const { mc } = await startCache({ dir });
    expect(count('db.open')).toBe(2);
    expect(mc.startup.db.inMemory).toBe(true);
    expect(mc.startup.db.corruption).toMatch(/reopen/);
    await servesAll(mc, files);
    expect(await indexDiskMismatches(mc, chunksDir)).toEqual([]);
    expect((await chunkFiles(chunksDir)).length).toBe(mc.index.chunkCount);
  });
});
