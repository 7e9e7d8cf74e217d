// scan-resume: a real daemon is SIGKILLed twice in the middle of an origin scan by failpoints
// armed through FAILPOINTS (once before a batch is listed, once after a batch is committed to
// SQLite but before the checkpoint moved), then restarted. The scan resumes from its checkpoint
// and completes with every origin file recorded exactly once, in order: no duplicates, no gaps.
import { readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { expectExit, sendSignal } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  control,
  type Daemon,
  freshConfig,
  startDaemon,
  stopDaemon,
  type TestConfig,
  until,
  useDaemonCleanup,
  writeMedia,
  writeMediaFiles,
} from './helpers.ts';

useDaemonCleanup();

const FILES = 250;
const BATCH = 20; // 13 batches

interface Cursor {
  scanId: string;
  after: string | null;
  done: boolean;
  count: number;
}

function checkpoint(config: TestConfig): { seq: number; cursor: Cursor } {
  const file = JSON.parse(readFileSync(`${config.cacheDir}/checkpoints.json`, 'utf8')) as {
    entries: Record<string, { seq: number; data: string }>;
  };
  const entry = file.entries['scan/local']!;
  return { seq: entry.seq, cursor: JSON.parse(entry.data) as Cursor };
}

/** Triggers a rescan on a daemon armed to die inside it; asserts it died by SIGKILL from the failpoint. */
async function rescanUntilKilled(d: Daemon, failpoint: string, spec: string): Promise<void> {
  const answer = await control(d.control, 'PUT', '/actions/rescan', 20_000).then(
    (res) => `HTTP ${res.status} ${res.text()}`,
    (error: Error) => error.message,
  );
  await expectExit(d.proc, { signal: 'SIGKILL' }, { timeoutMs: 15_000 });
  const line = d.proc.lines('stderr').find((l) => l.includes(`failpoints: "${failpoint}" fired kill(SIGKILL)`));
  expect(line, `no failpoint line in: ${d.proc.tail('stderr')}`).toBeDefined();
  expect(answer).not.toMatch(/^HTTP 2/); // the rescan did not complete
  recordFault({
    kind: 'failpoint',
    name: failpoint,
    detail: `failpoint "${failpoint}" (${spec}) killed media-cache pid ${d.pid} by SIGKILL mid-scan; rescan caller saw: ${answer}`,
    source: 'suite-l2',
    attributes: { pid: d.pid, spec, exit: 'SIGKILL' },
  });
}

/** The index holds exactly the origin's files for this scan, each once, numbered 0..N-1 in listing order. */
function expectScannedExactlyOnce(config: TestConfig, scanId: string, expected: string[]): void {
  const db = new DatabaseSync(config.dbPath, { readOnly: true });
  try {
    const rows = db.prepare('SELECT path, seq FROM scan_entries WHERE scan_id = ? ORDER BY seq').all(scanId) as Array<{
      path: string;
      seq: number;
    }>;
    expect(rows.map((r) => r.path)).toEqual(expected);
    expect(rows.map((r) => r.seq)).toEqual(expected.map((_, i) => i));
    const scans = db.prepare('SELECT DISTINCT scan_id FROM scan_entries').all() as Array<{ scan_id: string }>;
    expect(scans.map((s) => s.scan_id)).toEqual([scanId]);
  } finally {
    db.close();
  }
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

test('a scan SIGKILLed twice mid-way resumes from its checkpoint: every file exactly once, in order', {
  tags: ['scan-resume'],
}, async () => {
  const config = await freshConfig({ scan: { batchSize: BATCH } });
  const names: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const name = `album-${String(i % 7)}/track-${String(i).padStart(3, '0')}.flac`;
    names.push(name);
    await writeMedia(config.media, name, 64 + i);
  }
  const expected = [...names].sort(byteOrder);

  // run 1: killed before listing batch 4 (3 batches committed and checkpointed)
  const spec1 = '3*off->kill(SIGKILL)';
  const run1 = await startDaemon(config, { failpoints: `scan.batch=${spec1}`, name: 'media-cache-run1' });
  await rescanUntilKilled(run1, 'scan.batch', spec1);
  const after1 = checkpoint(config);
  console.log(
    `[scan-resume] run 1 killed at scan.batch: checkpoint seq ${after1.seq}, cursor ${JSON.stringify(after1.cursor)}`,
  );
  expect(after1.cursor).toMatchObject({ done: false, count: 3 * BATCH, after: expected[3 * BATCH - 1] });

  // run 2: resumes, then killed after batch 6 is committed but before its checkpoint moved
  const spec2 = '2*off->kill(SIGKILL)';
  const run2 = await startDaemon(config, { failpoints: `scan.before-checkpoint=${spec2}`, name: 'media-cache-run2' });
  await rescanUntilKilled(run2, 'scan.before-checkpoint', spec2);
  const after2 = checkpoint(config);
  console.log(
    `[scan-resume] run 2 killed at scan.before-checkpoint: checkpoint seq ${after2.seq}, cursor ${JSON.stringify(after2.cursor)}`,
  );
  expect(after2.cursor).toMatchObject({ scanId: after1.cursor.scanId, done: false, count: 5 * BATCH });
  expect(after2.seq).toBeGreaterThan(after1.seq);

  // run 3: no faults; the scan resumes, replays the committed-but-unacknowledged batch, completes
  const run3 = await startDaemon(config, { name: 'media-cache-run3' });
  const res = await control(run3.control, 'PUT', '/actions/rescan', 20_000);
  expect(res.status).toBe(200);
  const [report] = res.json<{ result: Array<Record<string, unknown>> }>().result;
  console.log(`[scan-resume] run 3 report: ${JSON.stringify(report)}`);
  expect(report).toMatchObject({
    originId: 'local',
    scanId: after1.cursor.scanId,
    resumed: true,
    resumedAfter: expected[5 * BATCH - 1],
    replayed: BATCH, // batch 6 was already in SQLite: ignored, not duplicated
    recorded: FILES - 6 * BATCH,
    total: FILES,
    done: true,
  });
  const after3 = checkpoint(config);
  expect(after3.cursor).toMatchObject({ done: true, count: FILES, after: expected.at(-1) });
  expect(after3.seq).toBeGreaterThan(after2.seq);
  await stopDaemon(run3);

  expectScannedExactlyOnce(config, after1.cursor.scanId, expected);
});

test('a scan interrupted by SIGTERM stops cleanly mid-way and resumes after restart: every file exactly once', {
  tags: ['scan-resume'],
}, async () => {
  const config = await freshConfig({ scan: { batchSize: 10 } });
  const names = Array.from({ length: 100 }, (_, i) => `podcast/ep-${String(i).padStart(3, '0')}.mp3`);
  await writeMediaFiles(config, names, 32);
  const expected = [...names].sort(byteOrder);
  // each batch listing waits 150 ms, so the scan is provably mid-way when the signal lands
  const first = await startDaemon(config, { failpoints: 'scan.batch=sleep(150)', name: 'media-cache-run1' });
  const rescan = control(first.control, 'PUT', '/actions/rescan', 20_000).then(
    (res) => `HTTP ${res.status} ${res.text()}`,
    (error: Error) => error.message,
  );
  await until(
    '2 batches checkpointed',
    () => {
      try {
        return checkpoint(config).cursor.count >= 20;
      } catch {
        return false; // not written yet
      }
    },
    first,
  );
  sendSignal(first.proc, 'SIGTERM', { context: 'in the middle of a rescan' });
  await expectExit(first.proc, { code: 0 }, { timeoutMs: 15_000 });
  const answer = await rescan;
  const stopped = checkpoint(config);
  console.log(
    `[scan-resume] SIGTERM mid-scan: rescan answered "${answer}", checkpoint ${JSON.stringify(stopped.cursor)}`,
  );
  expect(answer).toMatch(/^HTTP 503/); // a clean refusal, not a hang and not a false success
  expect(stopped.cursor.done).toBe(false);
  expect(stopped.cursor.count).toBeLessThan(100);

  const second = await startDaemon(config, { name: 'media-cache-run2' });
  const res = await control(second.control, 'PUT', '/actions/rescan', 20_000);
  expect(res.status).toBe(200);
  const [report] = res.json<{ result: Array<Record<string, unknown>> }>().result;
  console.log(`[scan-resume] after restart: ${JSON.stringify(report)}`);
  expect(report).toMatchObject({
    scanId: stopped.cursor.scanId,
    resumed: true,
    resumedAfter: stopped.cursor.after,
    recorded: 100 - stopped.cursor.count,
    total: 100,
    done: true,
  });
  await stopDaemon(second);
  expectScannedExactlyOnce(config, stopped.cursor.scanId, expected);
});
