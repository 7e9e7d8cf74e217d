// restart-reconcile (seed 002, ported): a real daemon fills its cache, is SIGKILLed by a failpoint
// armed at runtime (HTTP control) right after a chunk file landed but before its index row, and
// the cache dir is then damaged by hand the way crashes and operators do (chunk files deleted, one
// truncated, an orphan, a temp file and a stray planted). The restart must reconcile the index with
// the chunk files (counts in startup.reconcile), leave disk and index agreeing, and serve every
// file correctly again.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { expectExit } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  freshConfig,
  httpRequest,
  listChunkFiles,
  sha256,
  startDaemon,
  status,
  stopDaemon,
  type TestConfig,
  untilChunksCached,
  useDaemonCleanup,
  watchedGet,
  writeMediaFiles,
} from './helpers.ts';

useDaemonCleanup();

const CHUNK = 64 * 1024;
const FILES = ['a.bin', 'b.bin', 'c.bin'];

function fileChunks(config: TestConfig, path: string): string[] {
  const db = new DatabaseSync(config.dbPath, { readOnly: true });
  try {
    const rows = db.prepare('SELECT hash FROM file_chunks WHERE path = ? ORDER BY idx').all(path) as Array<{
      hash: string;
    }>;
    return rows.map((r) => r.hash);
  } finally {
    db.close();
  }
}

const chunkPath = (config: TestConfig, hash: string) => join(config.chunksDir, hash.slice(0, 2), hash);

test('after a SIGKILL and hand-made damage, restart reconciles index and chunk files and serves everything', {
  tags: ['restart-reconcile'],
}, async () => {
  const config = await freshConfig({ cache: { chunkSize: CHUNK } });
  const sums = await writeMediaFiles(config, [...FILES, 'd.bin'], 4 * CHUNK);

  const first = await startDaemon(config, { failpointControl: true, name: 'media-cache-killed' });
  for (const f of FILES) expect((await httpRequest(`${first.url}/files/${f}`)).status).toBe(200);
  await untilChunksCached(first, 12);

  // arm the kill at runtime, then read d.bin: its first chunk lands on disk, the process dies
  const armed = await httpRequest(`http://failpoints/chunk.after-write`, {
    method: 'PUT',
    socketPath: first.failpoints!,
    body: 'kill(SIGKILL)',
  });
  expect(armed.status).toBe(204);
  const killedRead = await watchedGet(`${first.url}/files/d.bin`).done;
  await expectExit(first.proc, { signal: 'SIGKILL' }, { timeoutMs: 15_000 });
  expect(first.proc.tail('stderr')).toContain('failpoints: "chunk.after-write" fired kill(SIGKILL)');
  expect(killedRead.ok).toBe(false);
  recordFault({
    kind: 'failpoint',
    name: 'chunk.after-write',
    detail: `failpoint "chunk.after-write" armed over HTTP control as kill(SIGKILL) killed media-cache pid ${first.pid} after a chunk of d.bin was written, before its index row`,
    source: 'suite-l2',
    attributes: { pid: first.pid, spec: 'kill(SIGKILL)', exit: 'SIGKILL' },
  });
  const killOrphans = listChunkFiles(config.chunksDir).length - 12;
  expect(killOrphans).toBe(1);

  // hand-made damage on the dead daemon's cache dir
  const a = fileChunks(config, 'a.bin');
  const b = fileChunks(config, 'b.bin');
  expect(a).toHaveLength(4);
  expect(b).toHaveLength(4);
  rmSync(chunkPath(config, a[1]!)); // index rows whose chunk file is gone
  rmSync(chunkPath(config, a[2]!));
  truncateSync(chunkPath(config, b[3]!), 1000); // size disagrees with the index
  const planted = randomBytes(5000);
  const plantedHash = sha256(planted);
  mkdirSync(join(config.chunksDir, plantedHash.slice(0, 2)), { recursive: true });
  writeFileSync(chunkPath(config, plantedHash), planted); // an orphan nobody indexed
  writeFileSync(`${chunkPath(config, a[0]!)}.tmp-99999-deadbeef`, 'half a write'); // an interrupted temp file
  writeFileSync(join(config.chunksDir, a[0]!.slice(0, 2), 'notes.txt'), 'not a chunk'); // a stray
  recordFault({
    kind: 'fs',
    name: 'cache-dir-damage',
    detail:
      'after the SIGKILL: deleted 2 indexed chunk files, truncated 1 to 1000 bytes, planted 1 orphan chunk, 1 temp file and 1 stray',
    source: 'suite-l2',
    attributes: { deleted: 2, truncated: 1, orphans: 1, temps: 1, strays: 1 },
  });

  const second = await startDaemon(config, { name: 'media-cache-restarted' });
  const s = await status(second);
  console.log(`[restart-reconcile] startup.reconcile = ${JSON.stringify(s.startup.reconcile)}`);
  expect(s.startup.reconcile).toMatchObject({
    orphansDeleted: 1 + killOrphans, // the planted one and the one the kill left
    missingDropped: 2,
    mismatchedDropped: 1,
    tempFilesDeleted: 1,
    straysDeleted: 1,
  });
  // disk and index agree: 12 - 2 missing - 1 mismatched
  expect(s.cache.chunks).toBe(9);
  const onDisk = listChunkFiles(config.chunksDir);
  expect(onDisk).toHaveLength(9);
  expect(onDisk.every((f) => /^[0-9a-f]{64}$/.test(f.name) && f.size === CHUNK)).toBe(true);

  for (const [f, sum] of sums) {
    const res = await httpRequest(`${second.url}/files/${f}`);
    expect(res.status, f).toBe(200);
    expect(sha256(res.body), f).toBe(sum);
  }
  const after = await untilChunksCached(second, 16);
  // 9 survivors served from disk; 2 missing + 1 mismatched + 4 of d.bin refetched from the origin
  expect(after.counters.hits).toBe(9);
  expect(after.counters.misses).toBe(7);
  expect(after.counters.chunkCorrupt).toBe(0); // nothing bad was ever served or even read
  await stopDaemon(second);
});
