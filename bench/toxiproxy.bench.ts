// Passthrough cost of the embedded Toxiproxy server (@faultline/toxiproxy): throughput and
// added round-trip latency of a proxy with no toxics, against a direct connection, on
// loopback. The sink/echo server and the proxy each run in their own worker thread (the
// real Toxiproxy is a separate process too), the client in the main thread; direct and
// proxied trials alternate and the median is reported. A plain TCP relay from Debian
// (`socat`, when installed: `apt-get install -y socat`) runs in the same trials as the floor a
// relay costs. Reference: real Toxiproxy 2.12 moves ≈0.55× direct throughput and adds ≈155 µs
// p50 with p99/p50 1.2–3.5.
import { spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type BenchFigure, figure, median } from './figure.ts';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const TRIALS = 5;
const PINGS = 3000;
const RTT_BLOCKS = 30;

interface Role {
  role: 'sink' | 'proxy';
  upstream?: string;
  /** false: accepted sockets read through 'data' events (no adoption through Node's private Socket options). */
  adopt?: boolean;
}

/** Sink: the first 8 bytes announce a byte count; reply `k` once that many followed. Otherwise echo. */
function runSink(): void {
  const server = createServer({ noDelay: true }, (socket) => {
    let mode: 'unknown' | 'count' | 'echo' = 'unknown';
    let expected = 0;
    let received = 0;
    socket.on('error', () => {});
    socket.on('data', (data: Buffer) => {
      if (mode === 'echo') {
        socket.write(data);
        return;
      }
      if (mode === 'unknown') {
        if (data[0] === 0x43 /* C */) {
          mode = 'count';
          expected = Number(data.readBigUInt64BE(1));
          received = data.length - 9;
        } else {
          mode = 'echo';
          socket.write(data);
          return;
        }
      } else {
        received += data.length;
      }
      if (received >= expected) socket.write('k');
    });
  });
  server.listen(0, '127.0.0.1', () => parentPort!.postMessage((server.address() as AddressInfo).port));
}

async function runProxy(upstream: string, adopt: boolean): Promise<void> {
  const { start } = await import('../packages/toxiproxy/src/index.ts');
  const { setAdoptAccepted } = await import('../packages/toxiproxy/src/reader.ts');
  setAdoptAccepted(adopt);
  const server = await start();
  const res = await fetch(`${server.url}/proxies`, {
    method: 'POST',
    body: JSON.stringify({ name: 'bench', listen: '127.0.0.1:0', upstream }),
  });
  const { listen } = (await res.json()) as { listen: string };
  parentPort!.postMessage(Number(listen.slice(listen.lastIndexOf(':') + 1)));
}

function startWorker(data: Role): Promise<{ worker: Worker; port: number }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  return new Promise((resolve, reject) => {
    worker.once('message', (port: number) => resolve({ worker, port }));
    worker.once('error', reject);
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** MiB/s for TOTAL bytes pushed through `port` to the sink. */
async function throughput(port: number): Promise<number> {
  const socket = await open(port);
  const header = Buffer.alloc(9);
  header[0] = 0x43;
  header.writeBigUInt64BE(BigInt(TOTAL), 1);
  const block = Buffer.alloc(MiB, 7);
  const acked = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const started = performance.now();
  socket.write(header);
  for (let sent = 0; sent < TOTAL; sent += block.length) {
    if (!socket.write(block)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await acked;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return TOTAL / MiB / seconds;
}

/** Round-trip times in µs of a 64-byte echo. */
async function roundTrips(port: number, n: number): Promise<number[]> {
  const socket = await open(port);
  const payload = Buffer.alloc(64, 'p');
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (data: Buffer): void => {
        got += data.length;
        if (got >= payload.length) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
      socket.write(payload);
    });
    times.push((performance.now() - started) * 1000);
  }
  socket.destroy();
  return times;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A plain TCP relay from Debian (`socat`), forking per connection, as the floor a relay costs. */
async function startRelay(upstreamPort: number): Promise<{ port: number; stop: () => void } | undefined> {
  const port = await freePort();
  const child = spawn(
    'socat',
    [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork,nodelay`, `TCP:127.0.0.1:${upstreamPort},nodelay`],
    { stdio: 'ignore' },
  );
  const failed = new Promise<boolean>((resolve) => child.once('error', () => resolve(true)));
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    if (await Promise.race([failed, sleep(20).then(() => false)])) return undefined;
    const socket = await open(port).catch(() => undefined);
    if (socket) {
      socket.destroy();
      return { port, stop: () => child.kill() };
    }
  }
  child.kill();
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Path {
  label: string;
  port: number;
  mibs: number[];
  rtt: number[];
}

/** Trials interleaved across the paths, so load swings hit each alike. */
async function measure(paths: Path[]): Promise<void> {
  for (const path of paths) await throughput(path.port);
  for (let i = 0; i < TRIALS; i++) for (const path of paths) path.mibs.push(await throughput(path.port));
  for (const path of paths) await roundTrips(path.port, 300);
  // Short blocks: a load spike of a few seconds then lands on every path, not on one.
  for (let i = 0; i < RTT_BLOCKS; i++) {
    for (const path of paths) path.rtt.push(...(await roundTrips(path.port, PINGS / RTT_BLOCKS)));
  }
}

function throughputFigures(direct: Path, embedded: Path, relay: Path | undefined): BenchFigure[] {
  const d = { label: 'direct', value: median(direct.mibs) };
  const e = { label: 'embedded', value: median(embedded.mibs) };
  const figures = [
    figure('passthrough throughput, embedded proxy with no toxics vs direct (loopback)', 'MiB/s', d, e, {
      budget: '>= 0.55x',
      ok: e.value / d.value >= 0.55,
      note: `median of ${TRIALS} × ${TOTAL / MiB} MiB; real Toxiproxy 2.12 ≈ 0.55x`,
    }),
  ];
  if (!relay) return figures;
  const r = { label: 'socat', value: median(relay.mibs) };
  figures.push(
    figure('passthrough throughput, socat relay vs direct (loopback)', 'MiB/s', d, r, { note: 'same run' }),
    figure('passthrough throughput, embedded vs socat relay', 'MiB/s', r, e, { note: 'same run' }),
  );
  return figures;
}

/** What adopting accepted sockets (reader.ts, Node's private Socket options) buys over 'data' events. */
function fastPathFigure(unadopted: Path, embedded: Path): BenchFigure {
  return figure(
    'passthrough throughput, embedded with vs without adopting accepted sockets',
    'MiB/s',
    { label: "'data' events", value: median(unadopted.mibs) },
    { label: 'adopted (onread)', value: median(embedded.mibs) },
    { note: 'the private-API fast path of packages/toxiproxy/src/reader.ts; kept while this ratio is > 1.1x' },
  );
}

function latencyFigures(direct: Path, embedded: Path, relay: Path | undefined): BenchFigure[] {
  const d50 = percentile(direct.rtt, 50);
  const d99 = percentile(direct.rtt, 99);
  const figures: BenchFigure[] = [];
  for (const path of relay ? [embedded, relay] : [embedded]) {
    const p50 = percentile(path.rtt, 50);
    const p99 = percentile(path.rtt, 99);
    const embeddedBudget = path === embedded ? { budget: '<= 155 µs added', ok: p50 - d50 <= 155 } : {};
    figures.push(
      figure(
        `round-trip p50, 64 B echo, ${path.label} vs direct`,
        'µs',
        { label: 'direct', value: d50 },
        { label: path.label, value: p50 },
        {
          ...embeddedBudget,
          note: `adds ${(p50 - d50).toFixed(0)} µs; ${PINGS} round trips${path === embedded ? '; real Toxiproxy 2.12 adds ≈155 µs' : ''}`,
        },
      ),
      figure(
        `round-trip p99, 64 B echo, ${path.label} vs direct`,
        'µs',
        { label: 'direct', value: d99 },
        { label: path.label, value: p99 },
        {
          note: `adds ${(p99 - d99).toFixed(0)} µs`,
        },
      ),
      figure(
        `round-trip tail p99/p50, ${path.label}`,
        'µs',
        { label: 'p50', value: p50 },
        { label: 'p99', value: p99 },
        path === embedded ? { budget: '<= 3x', ok: p99 / p50 <= 3 } : {},
      ),
    );
  }
  figures.push(
    figure('round-trip tail p99/p50, direct', 'µs', { label: 'p50', value: d50 }, { label: 'p99', value: d99 }),
  );
  return figures;
}

export default async function bench(): Promise<BenchFigure[]> {
  const sink = await startWorker({ role: 'sink' });
  const proxy = await startWorker({ role: 'proxy', upstream: `127.0.0.1:${sink.port}` });
  const plain = await startWorker({ role: 'proxy', upstream: `127.0.0.1:${sink.port}`, adopt: false });
  const socat = await startRelay(sink.port);
  try {
    const path = (label: string, port: number): Path => ({ label, port, mibs: [], rtt: [] });
    const direct = path('direct', sink.port);
    const embedded = path('embedded', proxy.port);
    const unadopted = path('embedded without adoption', plain.port);
    const relay = socat ? path('socat', socat.port) : undefined;
    await measure(relay ? [direct, embedded, unadopted, relay] : [direct, embedded, unadopted]);
    return [
      ...throughputFigures(direct, embedded, relay),
      fastPathFigure(unadopted, embedded),
      ...latencyFigures(direct, embedded, relay),
    ];
  } finally {
    socat?.stop();
    await Promise.all([sink.worker.terminate(), proxy.worker.terminate(), plain.worker.terminate()]);
  }
}

if (!isMainThread) {
  const data = workerData as Role;
  if (data.role === 'sink') runSink();
  else await runProxy(data.upstream!, data.adopt ?? true);
}
