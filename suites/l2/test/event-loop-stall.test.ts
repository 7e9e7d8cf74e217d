// event-loop-stall: 100 concurrent reads of 100 different files through a real daemon whose
// origin is slowed by an `origin.read=sleep(300)` failpoint (armed through FAILPOINTS, hits read
// back over its HTTP control). Every origin access costs 300 ms, so reads that waited on one
// another would take 100 × 600 ms = 60 s; concurrent ones finish in about one read's time. A second
// round reads the same 100 files from the cache.
import { LatencyRecorder, type LatencySummary } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  failpointCount,
  freshConfig,
  startDaemon,
  stopDaemon,
  untilChunksCached,
  useDaemonCleanup,
  watchedGet,
  writeMediaFiles,
} from './helpers.ts';

useDaemonCleanup();

const READS = 100;
const SIZE = 200_000;
const ORIGIN_SLEEP_MS = 300;
/** The whole batch must finish within this (one read is ~2 × 300 ms; serialised would be ~60 s). */
const DEADLINE_MS = 8_000;

async function readAll(url: string, names: string[], sums: Map<string, string>) {
  const latency = new LatencyRecorder();
  const started = performance.now();
  const results = await Promise.all(names.map((n) => watchedGet(`${url}/files/${n}`, DEADLINE_MS).done));
  const wallMs = performance.now() - started;
  results.forEach((r, i) => {
    expect(r, names[i]).toMatchObject({ ok: true, status: 200, bytes: SIZE, sha256: sums.get(names[i]!) });
    latency.record(r.ms);
  });
  return { wallMs, summary: latency.summary() };
}

const fmt = (s: LatencySummary, wallMs: number) =>
  `wall ${wallMs.toFixed(0)} ms, per read p50 ${s.p50.toFixed(0)} ms p99 ${s.p99.toFixed(0)} ms max ${s.max.toFixed(0)} ms`;

test('100 concurrent reads of different files over a slow origin all complete within the deadline', {
  tags: ['event-loop-stall'],
}, async () => {
  const config = await freshConfig();
  const names = Array.from({ length: READS }, (_, i) => `show-${String(i).padStart(3, '0')}.ts`);
  const sums = await writeMediaFiles(config, names, SIZE);
  const spec = `sleep(${ORIGIN_SLEEP_MS})`;
  const d = await startDaemon(config, { failpoints: `origin.read=${spec}`, failpointControl: true });

  const cold = await readAll(d.url, names, sums);
  console.log(
    `[event-loop-stall] ${READS} concurrent cold reads (origin sleeps ${ORIGIN_SLEEP_MS} ms per access): ${fmt(cold.summary, cold.wallMs)}`,
  );
  const hits = await failpointCount(d, 'origin.read');
  expect(hits).toBeGreaterThanOrEqual(2 * READS); // a stat and a chunk read per file, each slowed
  recordFault({
    kind: 'failpoint',
    name: 'origin.read',
    detail: `failpoint "origin.read" fired ${spec} ${hits} times in media-cache pid ${d.pid} while ${READS} reads ran concurrently (max ${cold.summary.max.toFixed(0)} ms)`,
    source: 'suite-l2',
    attributes: {
      pid: d.pid,
      spec,
      hits,
      reads: READS,
      maxMs: Math.round(cold.summary.max),
      wallMs: Math.round(cold.wallMs),
    },
  });
  expect(cold.wallMs).toBeLessThan(DEADLINE_MS);
  expect(cold.summary.max).toBeLessThan(DEADLINE_MS);

  await untilChunksCached(d, READS);
  const warm = await readAll(d.url, names, sums);
  console.log(`[event-loop-stall] ${READS} concurrent cached reads: ${fmt(warm.summary, warm.wallMs)}`);
  expect(warm.summary.max).toBeLessThan(DEADLINE_MS);
  await stopDaemon(d);
});
