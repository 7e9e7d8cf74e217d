// atomic-chunk: a real daemon is SIGKILLed by a failpoint between a chunk's durable write and its
// index insert, while a client is reading the file. No partial chunk may become visible (every
// chunk file is named by the hash of its whole content, the index only names chunks that exist),
// the client never sees a truncated success, and after a restart reconciliation has removed the
// orphan and the file is served correctly (the missing chunk refetched from the origin).
import { DatabaseSync } from 'node:sqlite';
import { expectExit } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  badChunkNames,
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
  writeMedia,
} from './helpers.ts';

useDaemonCleanup();

const CHUNK = 64 * 1024;
const SIZE = 4 * CHUNK;

/** Chunk rows and file→chunk mappings in the index (read-only; the daemon is dead or stopped). */
function indexed(config: TestConfig): { chunks: string[]; mapped: Array<{ idx: number; hash: string }> } {
  const db = new DatabaseSync(config.dbPath, { readOnly: true });
  try {
    const chunks = (db.prepare('SELECT hash FROM chunks ORDER BY hash').all() as Array<{ hash: string }>).map(
      (r) => r.hash,
    );
    const mapped = db.prepare('SELECT idx, hash FROM file_chunks ORDER BY idx').all() as Array<{
      idx: number;
      hash: string;
    }>;
    return { chunks, mapped };
  } finally {
    db.close();
  }
}

test.for([
  // chunk 0 cached and sent, chunk 1 renamed into place, then killed before its index insert
  { failpoint: 'chunk.after-write', spec: '1*off->kill(SIGKILL)', indexedBefore: 1, headersSent: true },
  // killed at the very start of chunk 0's index insert: before any response went out
  { failpoint: 'index.before-insert', spec: 'kill(SIGKILL)', indexedBefore: 0, headersSent: false },
])(
  'SIGKILL at $failpoint: no visible partial chunk; after restart the orphan is reconciled and the file served whole',
  { tags: ['atomic-chunk'] },
  async ({ failpoint, spec, indexedBefore, headersSent }) => {
    const config = await freshConfig({ cache: { chunkSize: CHUNK } });
    const sum = await writeMedia(config.media, 'movie.bin', SIZE);
    const first = await startDaemon(config, { failpoints: `${failpoint}=${spec}`, name: 'media-cache-killed' });

    const read = await watchedGet(`${first.url}/files/movie.bin`).done;
    await expectExit(first.proc, { signal: 'SIGKILL' }, { timeoutMs: 15_000 });
    const line = first.proc.lines('stderr').find((l) => l.includes(`failpoints: "${failpoint}" fired kill(SIGKILL)`));
    expect(line, first.proc.tail('stderr')).toBeDefined();
    recordFault({
      kind: 'failpoint',
      name: failpoint,
      detail: `failpoint "${failpoint}" (${spec}) SIGKILLed media-cache pid ${first.pid} between chunk write and index insert; the reader saw: ${read.error ?? read.status}`,
      source: 'suite-l2',
      attributes: { pid: first.pid, spec, exit: 'SIGKILL', bytesRead: read.bytes },
    });

    // the client: an error, never a truncated success
    expect(read.ok).toBe(false);
    expect(read.bytes).toBeLessThan(SIZE);
    expect(read.status).toBe(headersSent ? 200 : 0);

    // on disk right after the kill: only whole chunks under final names, one of them unindexed
    const files = listChunkFiles(config.chunksDir);
    expect(badChunkNames(config.chunksDir)).toEqual([]);
    const chunkFiles = files.filter((f) => /^[0-9a-f]{64}$/.test(f.name));
    expect(chunkFiles.every((f) => f.size === CHUNK)).toBe(true);
    const index = indexed(config);
    expect(index.chunks).toHaveLength(indexedBefore);
    expect(index.mapped.map((m) => m.idx)).toEqual(indexedBefore === 1 ? [0] : []);
    for (const hash of index.chunks) expect(chunkFiles.map((f) => f.name)).toContain(hash); // index ⊆ disk
    const orphans = chunkFiles.filter((f) => !index.chunks.includes(f.name));
    expect(orphans).toHaveLength(1);
    console.log(
      `[atomic-chunk] ${failpoint}: reader got ${read.bytes} bytes then "${read.error}"; disk: ${chunkFiles.length} whole chunk file(s), ${index.chunks.length} indexed, 1 orphan`,
    );

    // restart: reconciliation deletes the orphan, the file is served whole (missing chunks refetched)
    const second = await startDaemon(config, { name: 'media-cache-restarted' });
    const s = await status(second);
    expect(s.startup.reconcile).toMatchObject({ orphansDeleted: 1, missingDropped: 0, mismatchedDropped: 0 });
    expect(listChunkFiles(config.chunksDir).map((f) => f.name)).toEqual(index.chunks);
    const res = await httpRequest(`${second.url}/files/movie.bin`);
    expect(res.status).toBe(200);
    expect(sha256(res.body)).toBe(sum);
    // the status snapshot may be up to 50 ms old: wait for the one that shows the read
    const after = await untilChunksCached(second, 4, 'the status to show all 4 chunks cached');
    expect(after.counters.hits).toBe(indexedBefore);
    expect(after.counters.misses).toBe(4 - indexedBefore);
    expect(badChunkNames(config.chunksDir)).toEqual([]);
    expect(listChunkFiles(config.chunksDir)).toHaveLength(4);
    await stopDaemon(second);
  },
);
