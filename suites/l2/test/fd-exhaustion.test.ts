// fd-exhaustion: the real daemon runs under a low RLIMIT_NOFILE (spawnManaged with rlimits: setrlimit in a
// preload, read back from /proc/<pid>/limits). A burst of concurrent reads is held at an
// `origin.read` sleep failpoint while their sockets use up the remaining descriptors, so when the
// reads go on to open origin and chunk files, descriptor exhaustion happens INSIDE request
// handling: those requests must get a clean 503 (Retry-After), the process must survive, and once
// the load is gone a request succeeds again. (Connections refused at accept() are dropped silently
// by libuv; they are counted, not asserted on.)
import { readdirSync } from 'node:fs';
import { recordFault } from '@faultline/vitest';
import { expect, test } from 'vitest';
import {
  freshConfig,
  type HttpResult,
  httpRequest,
  sha256,
  sleep,
  startDaemon,
  status,
  stopDaemon,
  until,
  useDaemonCleanup,
  writeMediaFiles,
} from './helpers.ts';

useDaemonCleanup();

const NOFILE = 64;
const SIZE = 100_000;

test('with RLIMIT_NOFILE=64, a burst of reads gets clean 503s, the daemon survives and then serves 200 again', {
  tags: ['fd-exhaustion'],
}, async () => {
  const config = await freshConfig();
  const names = Array.from({ length: 120 }, (_, i) => `clip-${String(i).padStart(3, '0')}.mp4`);
  const sums = await writeMediaFiles(config, names, SIZE);
  const d = await startDaemon(config, { limits: { nofile: NOFILE }, failpoints: 'origin.read=sleep(400)' });
  expect(d.limited?.applied.nofile).toEqual({ soft: NOFILE, hard: NOFILE });

  const used = readdirSync(`/proc/${d.pid}/fd`).length;
  const free = NOFILE - used;
  // enough connections to take every free descriptor, and more
  const burst = names.slice(0, free + 30);
  const settled = await Promise.allSettled(burst.map((n) => httpRequest(`${d.url}/files/${n}`, { timeoutMs: 20_000 })));
  const ok: HttpResult[] = [];
  const unavailable: HttpResult[] = [];
  const other: string[] = [];
  const dropped: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'rejected') dropped.push(String((s.reason as NodeJS.ErrnoException).code ?? s.reason));
    else if (s.value.status === 200) {
      expect(s.value.body.byteLength, burst[i]).toBe(SIZE);
      ok.push(s.value);
    } else if (s.value.status === 503) unavailable.push(s.value);
    else other.push(`${s.value.status} ${s.value.text()}`);
  });
  expect(d.proc.running, d.proc.tail()).toBe(true);
  const after = await until(
    'the control socket to answer after the burst',
    async () => status(d).catch(() => undefined),
    d,
  );
  console.log(
    `[fd-exhaustion] NOFILE=${NOFILE}, ${used} fds in use at rest, burst of ${burst.length}: ${ok.length} × 200, ${unavailable.length} × 503, ` +
      `${dropped.length} dropped (${[...new Set(dropped)].join(',')}), other ${other.length}; daemon counters fdExhausted=${after.httpCounters.fdExhausted} acceptErrors=${after.httpCounters.acceptErrors}`,
  );
  expect(other).toEqual([]);
  expect(unavailable.length).toBeGreaterThan(0);
  for (const r of unavailable) {
    expect(r.headers['retry-after']).toBe('1');
    expect(r.json<{ error: string }>().error).toMatch(/EMFILE|file descriptors/);
  }
  expect(after.httpCounters.fdExhausted).toBeGreaterThanOrEqual(unavailable.length);
  recordFault({
    kind: 'fd-exhaustion',
    name: 'EMFILE',
    detail: `media-cache pid ${d.pid} ran out of descriptors under RLIMIT_NOFILE=${NOFILE}: ${unavailable.length} of ${burst.length} reads got 503, daemon counted fdExhausted=${after.httpCounters.fdExhausted}`,
    source: 'suite-l2',
    attributes: {
      pid: d.pid,
      nofile: NOFILE,
      burst: burst.length,
      ok: ok.length,
      unavailable: unavailable.length,
      dropped: dropped.length,
      fdExhausted: after.httpCounters.fdExhausted,
    },
  });

  // recovery: the load is gone, a read succeeds (bounded retry while closing sockets free up)
  const name = names.at(-1)!;
  const res = await until(
    'a read to succeed again after the burst',
    async () => {
      const r = await httpRequest(`${d.url}/files/${name}`).catch((e: Error) => e);
      if (r instanceof Error || r.status !== 200) {
        await sleep(100);
        return false;
      }
      return r;
    },
    d,
  );
  expect(res.body.byteLength).toBe(SIZE);
  expect(sha256(res.body)).toBe(sums.get(name));
  expect(d.proc.running).toBe(true);
  await stopDaemon(d); // and it still shuts down cleanly (exit 0)
});
