// sig-term + shutdown-order: real SIGTERM/SIGINT to a real daemon while slow reads are in flight
// (an `origin.read` sleep failpoint armed through FAILPOINTS, its hits confirmed over the
// failpoint HTTP control). In-flight reads either finish (within drainMs) or fail cleanly (503
// before the headers, a cut connection after them), never hang; the daemon stops accepting,
// tears down in order, removes its socket and lock and exits 0. A second signal exits at once
// with 128 + signal.
import { existsSync } from 'node:fs';
import { doubleSignal, expectExit, sendSignal, waitForLine } from '@faultline/crash';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  control,
  type Daemon,
  failpointCount,
  freshConfig,
  httpRequest,
  logEvents,
  startDaemon,
  status,
  until,
  useDaemonCleanup,
  watchedGet,
  writeMedia,
  writeMediaFiles,
} from './helpers.ts';

useDaemonCleanup();

const TEARDOWN = ['stop-accepting', 'drain', 'actions', 'control', 'supervisor', 'origins', 'db', 'socket', 'lock'];

/** Confirms in the daemon that the failpoint fired and records that as evidence on the test. */
async function confirmFailpoint(d: Daemon, name: string, spec: string, atLeast: number): Promise<number> {
  const hits = await until(
    `failpoint ${name} to fire ${atLeast} times`,
    async () => {
      const n = await failpointCount(d, name);
      return n >= atLeast && n;
    },
    d,
  );
  recordFault({
    kind: 'failpoint',
    name,
    detail: `failpoint "${name}" fired ${spec} ${hits} time(s) in media-cache pid ${d.pid} (count from its HTTP control)`,
    source: 'suite-l2',
    attributes: { pid: d.pid, spec, hits },
  });
  return hits;
}

interface ShutdownLog {
  steps: Array<{ step: string; ms: number; error?: string }>;
  abortedRequests: number;
  stuckTasks: string[];
}

function shutdownReport(d: Daemon): ShutdownLog {
  const [line] = logEvents(d.proc, 'shutdown-complete');
  expect(line, `no shutdown-complete log line: ${d.proc.tail('stderr')}`).toBeDefined();
  return line as unknown as ShutdownLog;
}

async function expectConnectionRefused(url: string): Promise<string> {
  try {
    const res = await httpRequest(url, { timeoutMs: 3_000 });
    // a connection that slipped in before the listener closed must still be turned away
    expect(res.status).toBe(503);
    return `503 ${res.headers['retry-after'] ?? ''}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    expect(code).toMatch(/ECONNREFUSED|ECONNRESET/);
    return code;
  }
}

test('SIGTERM with 4 slow reads in flight: stop accepting, reads finish, ordered teardown, socket + lock removed, exit 0', {
  tags: ['sig-term', 'shutdown-order'],
}, async () => {
  const config = await freshConfig({ timeouts: { drainMs: 8_000, readMs: 20_000 } });
  const files = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];
  const sums = await writeMediaFiles(config, files, 300_000);
  const spec = 'sleep(700)';
  const d = await startDaemon(config, { failpoints: `origin.read=${spec}`, failpointControl: true });

  const reads = files.map((f) => watchedGet(`${d.url}/files/${f}`));
  await until('4 reads in flight', async () => (await status(d)).inflight.http === 4, d);
  await confirmFailpoint(d, 'origin.read', spec, 4);

  const signalledAt = performance.now();
  sendSignal(d.proc, 'SIGTERM', { context: 'while 4 reads were in flight' });
  await waitForLine(d.proc, /"event":"shutdown-begin"/, { stream: 'stderr' });
  const refused = await expectConnectionRefused(`${d.url}/files/a.bin`);

  const results = await Promise.all(reads.map((r) => r.done));
  await expectExit(d.proc, { code: 0 }, { timeoutMs: 15_000 });
  const shutdownMs = performance.now() - signalledAt;
  console.log(
    `[sig-term] SIGTERM → exit 0 in ${shutdownMs.toFixed(0)} ms; in-flight reads ${results.map((r) => `${r.status}/${r.ms.toFixed(0)}ms`).join(' ')}; new connection: ${refused}`,
  );
  results.forEach((r, i) => {
    expect(r, `read of ${files[i]}`).toMatchObject({
      ok: true,
      status: 200,
      bytes: 300_000,
      sha256: sums.get(files[i]!),
    });
  });
  expect(existsSync(config.socket)).toBe(false);
  expect(existsSync(config.lockFile)).toBe(false);
  const report = shutdownReport(d);
  expect(report.steps.map((s) => s.step)).toEqual(TEARDOWN);
  expect(report.steps.filter((s) => s.error !== undefined)).toEqual([]);
  expect(report.abortedRequests).toBe(0);
  expect(report.stuckTasks).toEqual([]);
});

test('SIGINT with reads stuck past drainMs: the one before its headers gets 503, the one mid-body is cut, exit 0 in time', {
  tags: ['sig-term', 'shutdown-order'],
}, async () => {
  const drainMs = 800;
  // 64 KiB chunks: big.bin has 3, so its headers go out after chunk 0 and chunk 1 hangs
  const config = await freshConfig({
    cache: { chunkSize: 64 * 1024 },
    timeouts: { drainMs, readMs: 60_000 },
  });
  await writeMedia(config.media, 'big.bin', 3 * 64 * 1024);
  await writeMedia(config.media, 'small.bin', 10_000);
  // hits 1-2 (stat + chunk 0 of big.bin) pass, every later origin access hangs for 30 s
  const spec = '2*off->sleep(30000)';
  const d = await startDaemon(config, { failpoints: `origin.read=${spec}`, failpointControl: true });

  const midBody = watchedGet(`${d.url}/files/big.bin`);
  expect(await midBody.headers).toBe(200);
  const beforeHeaders = watchedGet(`${d.url}/files/small.bin`);
  await until('both reads in flight', async () => (await status(d)).inflight.http === 2, d);
  await confirmFailpoint(d, 'origin.read', spec, 4);

  const signalledAt = performance.now();
  sendSignal(d.proc, 'SIGINT', { context: 'with one read stuck mid-body and one before its headers' });
  const [cut, refusedEarly] = await Promise.all([midBody.done, beforeHeaders.done]);
  await expectExit(d.proc, { code: 0 }, { timeoutMs: drainMs + 10_000 });
  const shutdownMs = performance.now() - signalledAt;
  console.log(
    `[shutdown-order] SIGINT → exit 0 in ${shutdownMs.toFixed(0)} ms (drainMs ${drainMs}); mid-body read: ${cut.error} after ${cut.ms.toFixed(0)} ms; ` +
      `read before headers: ${refusedEarly.status} after ${refusedEarly.ms.toFixed(0)} ms`,
  );
  // mid-body: never a truncated success
  expect(cut.ok).toBe(false);
  expect(cut.status).toBe(200);
  expect(cut.bytes).toBeLessThan(3 * 64 * 1024);
  // before the headers: a clean 503 (the daemon is shutting down), not a hang
  expect(refusedEarly.status).toBe(503);
  expect(refusedEarly.ok).toBe(true);
  expect(shutdownMs).toBeLessThan(drainMs + 5_000);
  expect(existsSync(config.socket)).toBe(false);
  expect(existsSync(config.lockFile)).toBe(false);
  const report = shutdownReport(d);
  expect(report.steps.map((s) => s.step)).toEqual(TEARDOWN);
  expect(report.abortedRequests).toBe(2);
  const drain = report.steps.find((s) => s.step === 'drain')!;
  expect(drain.ms).toBeGreaterThanOrEqual(drainMs - 50);
});

test.for([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('a second %s during a slow drain exits at once with %i', { tags: ['sig-term'] }, async ([signal, code]) => {
  const config = await freshConfig({ timeouts: { drainMs: 20_000, readMs: 60_000 } });
  await writeMedia(config.media, 'x.bin', 10_000);
  const spec = 'sleep(30000)';
  const d = await startDaemon(config, { failpoints: `origin.read=${spec}`, failpointControl: true });
  const stuck = watchedGet(`${d.url}/files/x.bin`, 30_000);
  await until('the read to be in flight', async () => (await status(d)).inflight.http === 1, d);
  await confirmFailpoint(d, 'origin.read', spec, 1);

  const { exit, exitAfterSecondMs } = await doubleSignal(d.proc, signal, {
    afterLine: /"event":"shutdown-begin"/,
    gapMs: 50,
  });
  const read = await stuck.done;
  console.log(
    `[sig-term] second ${signal}: exit ${exit.code} ${exitAfterSecondMs.toFixed(0)} ms after it; stuck read: ${read.error ?? read.status}`,
  );
  expect(exit).toEqual({ code, signal: null });
  expect(exitAfterSecondMs).toBeLessThan(2_000); // "at once": the 20 s drain was not waited for
  expect(read.ok).toBe(false); // the stuck client sees the connection go, never a success
  expect(logEvents(d.proc, 'second-signal')).toHaveLength(1);
});

test('SIGTERM with a 30 s control action in flight: the action ends with a clean 503, exit 0 without waiting for it', {
  tags: ['sig-term', 'shutdown-order'],
}, async () => {
  const config = await freshConfig();
  const d = await startDaemon(config);
  const action = control(d.control, 'PUT', '/actions/sleep?ms=30000', 20_000).then(
    (res) => ({ status: res.status, text: res.text() }),
    (error: Error) => ({ status: 0, text: error.message }),
  );
  await until('the 30 s action to be running', async () => (await status(d)).actions.running === 'sleep', d);
  const signalledAt = performance.now();
  sendSignal(d.proc, 'SIGTERM', { context: 'while a 30 s control action was running' });
  await expectExit(d.proc, { code: 0 }, { timeoutMs: 15_000 });
  const shutdownMs = performance.now() - signalledAt;
  const answer = await action;
  console.log(
    `[shutdown-order] SIGTERM with a 30 s action running → exit 0 in ${shutdownMs.toFixed(0)} ms; action: ${answer.status} ${answer.text}`,
  );
  expect(answer.status).toBe(503);
  expect(answer.text).toContain('shutting down');
  expect(shutdownMs).toBeLessThan(5_000);
  expect(existsSync(config.socket)).toBe(false);
  expect(existsSync(config.lockFile)).toBe(false);
  expect(shutdownReport(d).steps.map((s) => s.step)).toEqual(TEARDOWN);
});
