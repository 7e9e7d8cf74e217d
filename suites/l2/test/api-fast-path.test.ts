// api-fast-path (seed 000, ported): `GET /` on the control socket of a real daemon stays fast
// while a 1 s mutating action holds the serial action queue. The injected condition is the long
// action; the measurement is taken only while it is provably in flight.
import { LatencyRecorder, type LatencySummary } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  control,
  type Daemon,
  freshConfig,
  type HttpResult,
  sleep,
  startDaemon,
  status,
  stopDaemon,
  until,
  useDaemonCleanup,
} from './helpers.ts';

useDaemonCleanup();

const ACTION_MS = 1_000;
const MIN_SAMPLES = 200;
const P99_BUDGET_MS = 200; // seed 000: 5 ms spec target, 200 ms hard cap for shared CI cores
/** One sequential reader with a 1 ms breather, as in seed 000: the GETs do not queue behind each other. */
const READERS = 1;

interface Measured {
  summary: LatencySummary;
  actions: Array<{ status: number; sleptMs: number; inFlightMs: number }>;
}

/**
 * Runs 1 s sleep actions one after another (as many as needed, at most 5) and, while each is
 * running, hammers `GET /` from READERS sequential loops (a new connection per request). Only
 * requests that started after the action was seen running and ended before its response count.
 */
async function measureDuringActions(d: Daemon): Promise<Measured> {
  const recorder = new LatencyRecorder();
  const actions: Measured['actions'] = [];
  for (let round = 0; round < 5 && recorder.count < MIN_SAMPLES; round++) {
    const sentAt = performance.now();
    let answeredAt = Number.POSITIVE_INFINITY;
    const put = control(d.control, 'PUT', `/actions/sleep?ms=${ACTION_MS}`, 15_000).then((res) => {
      answeredAt = performance.now();
      return res;
    });
    await until(
      'the sleep action to be running in the queue',
      async () => (await status(d)).actions.running === 'sleep',
      d,
    );
    let done = false;
    void put.finally(() => {
      done = true;
    });
    const samples: Array<{ start: number; end: number; res: HttpResult }> = [];
    const reader = async () => {
      while (!done) {
        const start = performance.now();
        const res = await control(d.control, 'GET', '/', 5_000);
        samples.push({ start, end: performance.now(), res });
        await sleep(1);
      }
    };
    await Promise.all(Array.from({ length: READERS }, reader));
    const res = await put;
    expect(res.status).toBe(200);
    const sleptMs = res.json<{ result: { sleptMs: number } }>().result.sleptMs;
    expect(sleptMs).toBeGreaterThanOrEqual(ACTION_MS - 5);
    actions.push({ status: res.status, sleptMs, inFlightMs: Math.round(answeredAt - sentAt) });
    for (const s of samples) {
      expect(s.res.status).toBe(200);
      expect(s.res.json<{ pid: number }>().pid).toBe(d.pid);
      if (s.end <= answeredAt) recorder.record(s.end - s.start);
    }
  }
  return { summary: recorder.summary(), actions };
}

const fmt = (s: LatencySummary) =>
  `n=${s.count} p50=${s.p50.toFixed(2)} ms p99=${s.p99.toFixed(2)} ms max=${s.max.toFixed(2)} ms`;

test('GET / on the control socket stays under the p99 budget while a 1 s mutating action is in flight', {
  tags: ['api-fast-path'],
}, async () => {
  const config = await freshConfig();
  const d = await startDaemon(config);
  // warm-up: the first requests pay for JIT and connection setup code paths
  for (let i = 0; i < 20; i++) await control(d.control, 'GET', '/');

  const { summary, actions } = await measureDuringActions(d);
  console.log(`[api-fast-path] GET / during PUT /actions/sleep?ms=${ACTION_MS}: ${fmt(summary)}`);
  expect(summary.count).toBeGreaterThanOrEqual(MIN_SAMPLES);
  recordFault({
    kind: 'mutating-action',
    name: 'sleep',
    detail:
      `mutating action PUT /actions/sleep?ms=${ACTION_MS} in flight for ${actions.map((a) => a.inFlightMs).join('+')} ms ` +
      `(${actions.length} run(s)) while ${summary.count} GET / were measured: ${fmt(summary)}`,
    source: 'suite-l2',
    attributes: {
      pid: d.pid,
      actions: actions.length,
      sleptMs: actions.reduce((a, b) => a + b.sleptMs, 0),
      samples: summary.count,
      p50Ms: Number(summary.p50.toFixed(2)),
      p99Ms: Number(summary.p99.toFixed(2)),
      maxMs: Number(summary.max.toFixed(2)),
    },
  });
  expect(summary.p99, `GET / p99 ${summary.p99.toFixed(1)} ms during a long action`).toBeLessThan(P99_BUDGET_MS);
  await stopDaemon(d);
});

// The same measurement against the daemon with the protection switched off (status through the
// queue): it must blow the budget, or the test above could not fail. Not tagged: covers nothing.
test('control: with unsafe.statusThroughQueue the same measurement blows the budget', async () => {
  const config = await freshConfig({ unsafe: { statusThroughQueue: true } });
  const d = await startDaemon(config);
  const put = control(d.control, 'PUT', `/actions/sleep?ms=${ACTION_MS}`, 15_000);
  await sleep(150); // the PUT reaches the queue first; GET / now waits behind it
  const t = performance.now();
  const res = await control(d.control, 'GET', '/', 5_000);
  const ms = performance.now() - t;
  console.log(`[api-fast-path control] GET / through the queue took ${ms.toFixed(0)} ms`);
  expect(res.status).toBe(200);
  expect(ms).toBeGreaterThan(P99_BUDGET_MS);
  expect((await put).status).toBe(200);
  await stopDaemon(d);
});
