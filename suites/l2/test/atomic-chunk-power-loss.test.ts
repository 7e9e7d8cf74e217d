// atomic-chunk at layer 2, the two kills the first test of atomic-chunk.test.ts cannot see:
// 1. SIGKILL mid-write (failpoint `chunk.after-open`: the chunk's file exists, no byte written
//    yet). A writer without temp file + rename leaves a torn chunk under its final name there.
// 2. SIGKILL, then a power loss (@faultline/crash's preload journals the daemon's fs calls under
//    the chunk dir; the harness rewinds it to its durable state). A writer that skips the fsync
//    before its rename, or the directory fsync after it, loses chunks the index already names.
// The SQLite index lives outside the tracked dir and syncs itself.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { expectExit, type PowerLoss, powerLoss } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import type { UnsafeConfig } from 'media-cache';
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
  useDaemonCleanup,
  watchedGet,
  writeMedia,
} from './helpers.ts';

useDaemonCleanup();

const CHUNK = 64 * 1024;
const SIZE = 4 * CHUNK;

function indexedChunks(config: TestConfig): Array<{ hash: string; size: number }> {
  const db = new DatabaseSync(config.dbPath, { readOnly: true });
  try {
    return db.prepare('SELECT hash, size FROM chunks ORDER BY hash').all() as Array<{ hash: string; size: number }>;
  } finally {
    db.close();
  }
}

/** Starts a daemon that SIGKILLs itself at `failpoint` (spec), reads the file through it, waits for the death. */
async function killedWhileCaching(unsafe: Partial<UnsafeConfig>, spec: string, power?: (c: TestConfig) => PowerLoss) {
  // freshConfig merges FAULTLINE_BREAK's switches over these (faultline verify)
  const config = await freshConfig({ cache: { chunkSize: CHUNK }, unsafe });
  const sum = await writeMedia(config.media, 'movie.bin', SIZE);
  mkdirSync(config.chunksDir, { recursive: true });
  const tracker = power?.(config);
  const d = await startDaemon(config, {
    failpoints: `chunk.after-open=${spec}`,
    name: 'media-cache-killed',
    ...(tracker === undefined ? {} : { env: tracker.env() }),
  });
  const read = await watchedGet(`${d.url}/files/movie.bin`).done;
  await expectExit(d.proc, { signal: 'SIGKILL' }, { timeoutMs: 15_000 });
  const fired = d.proc.lines('stderr').some((l) => l.includes('failpoints: "chunk.after-open" fired kill(SIGKILL)'));
  expect(fired, d.proc.tail('stderr')).toBe(true);
  recordFault({
    kind: 'failpoint',
    name: 'chunk.after-open',
    detail: `failpoint "chunk.after-open" (${spec}) SIGKILLed media-cache pid ${d.pid} with a chunk file open and empty; the reader saw: ${read.error ?? read.status}`,
    source: 'suite-l2',
    attributes: { pid: d.pid, spec, exit: 'SIGKILL' },
  });
  return { config, sum, read, tracker };
}

async function restartServesWhole(config: TestConfig, sum: string) {
  const d = await startDaemon(config, { name: 'media-cache-restarted' });
  const s = await status(d);
  const res = await httpRequest(`${d.url}/files/movie.bin`);
  await stopDaemon(d);
  return { reconcile: s.startup.reconcile, whole: res.status === 200 && sha256(res.body) === sum };
}

test('SIGKILL with a chunk file open and empty: nothing torn under a final name; the restart deletes the temp file', {
  tags: ['atomic-chunk'],
}, async () => {
  const { config, sum, read } = await killedWhileCaching({}, '1*off->kill(SIGKILL)');
  expect(read.ok).toBe(false);
  const files = listChunkFiles(config.chunksDir);
  console.log(
    `[atomic-chunk mid-write] on disk after the kill: ${files.map((f) => `${f.name.slice(0, 20)} ${f.size}`).join(', ')}`,
  );
  expect(badChunkNames(config.chunksDir)).toEqual([]);
  expect(files.filter((f) => /^[0-9a-f]{64}$/.test(f.name)).every((f) => f.size === CHUNK)).toBe(true);
  expect(files.some((f) => f.name.includes('.tmp-'))).toBe(true); // the kill really landed mid-write
  const { reconcile, whole } = await restartServesWhole(config, sum);
  expect(reconcile).toMatchObject({ tempFilesDeleted: 1, missingDropped: 0, mismatchedDropped: 0 });
  expect(whole).toBe(true);
});

test('control: a chunk written in place is caught torn under its final name', async () => {
  const { config } = await killedWhileCaching({ chunkInPlace: true }, '1*off->kill(SIGKILL)');
  expect(badChunkNames(config.chunksDir)).toHaveLength(1);
});

/** SIGKILL on chunk 2's write, then a power loss: which indexed chunks survived whole. */
async function powerLossAfterKill(unsafe: Partial<UnsafeConfig>) {
  let tracker: PowerLoss | undefined;
  try {
    const killed = await killedWhileCaching(unsafe, '2*off->kill(SIGKILL)', (c) => {
      tracker = powerLoss({ root: c.chunksDir, journalDir: join(c.dir, 'power-loss') });
      return tracker;
    });
    const indexed = indexedChunks(killed.config);
    const report = tracker!.cut();
    const lost = indexed.flatMap((c) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(killed.config.chunksDir, c.hash.slice(0, 2), c.hash));
      } catch {
        return [`${c.hash.slice(0, 12)} missing`];
      }
      return bytes.byteLength === c.size && sha256(bytes) === c.hash
        ? []
        : [`${c.hash.slice(0, 12)} torn (${bytes.byteLength} of ${c.size} bytes)`];
    });
    console.log(
      `[atomic-chunk power loss ${JSON.stringify(unsafe)}] ${indexed.length} indexed, lost: ${JSON.stringify(lost)}; ${report.ops} ops journaled`,
    );
    return { ...killed, indexed, report, lost };
  } finally {
    tracker?.dispose();
  }
}

test('SIGKILL then power loss: every chunk the index names is whole on disk; the restart serves the file', {
  tags: ['atomic-chunk'],
}, async () => {
  const { config, sum, indexed, report, lost } = await powerLossAfterKill({});
  expect(indexed).toHaveLength(2);
  expect(report.removed.length).toBeGreaterThan(0); // the in-flight temp file was not durable
  expect(lost).toEqual([]);
  const { reconcile, whole } = await restartServesWhole(config, sum);
  expect(reconcile).toMatchObject({ missingDropped: 0, mismatchedDropped: 0 });
  expect(whole).toBe(true);
});

test('control: without the fsync before the rename, indexed chunks come back empty after the power loss', async () => {
  const { lost } = await powerLossAfterKill({ skipChunkFsync: true });
  expect(lost).toHaveLength(2);
  expect(lost.every((l) => l.includes('torn (0 of'))).toBe(true);
});

test('control: without the directory fsync, indexed chunks are gone after the power loss', async () => {
  const { lost } = await powerLossAfterKill({ skipDirFsync: true });
  expect(lost).toHaveLength(2);
  expect(lost.every((l) => l.endsWith('missing'))).toBe(true);
});
