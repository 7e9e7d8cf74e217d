// Passthrough cost of the embedded Toxiproxy server (@faultline/toxiproxy): throughput and
// added round-trip latency of a proxy with no toxics, against a direct connection, on
// loopback. The sink/echo server and the proxy each run in their own worker thread (the
// real Toxiproxy is a separate process too), the client in the main thread; direct and
// proxied trials alternate and the median is reported. Reference: real Toxiproxy 2.12
// moves ≈0.55× direct throughput and adds ≈155 µs p50.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type BenchFigure, figure, median } from './figure.ts';

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
const TRIALS = 5;
const PINGS = 3000;

interface Role {
  role: 'sink' | 'proxy';
  upstream?: string;
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

async function runProxy(upstream: string): Promise<void> {
  const { start } = await import('../packages/toxiproxy/src/index.ts');
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

export default async function bench(): Promise<BenchFigure[]> {
  const sink = await startWorker({ role: 'sink' });
  const proxy = await startWorker({ role: 'proxy', upstream: `127.0.0.1:${sink.port}` });
  try {
    await throughput(sink.port);
    await throughput(proxy.port);
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      direct.push(await throughput(sink.port));
      proxied.push(await throughput(proxy.port));
    }
    await roundTrips(sink.port, 300);
    await roundTrips(proxy.port, 300);
    const directRtt: number[] = [];
    const proxiedRtt: number[] = [];
    for (let i = 0; i < 3; i++) {
      directRtt.push(...(await roundTrips(sink.port, PINGS / 3)));
      proxiedRtt.push(...(await roundTrips(proxy.port, PINGS / 3)));
    }
    const tDirect = median(direct);
    const tProxied = median(proxied);
    const p50 = [percentile(directRtt, 50), percentile(proxiedRtt, 50)] as const;
    const p99 = [percentile(directRtt, 99), percentile(proxiedRtt, 99)] as const;
    return [
      figure(
        'passthrough throughput, proxy with no toxics vs direct (loopback)',
        'MiB/s',
        { label: 'direct', value: tDirect },
        { label: 'proxied', value: tProxied },
        {
          budget: '>= 0.55x',
          ok: tProxied / tDirect >= 0.55,
          note: `median of ${TRIALS} × ${TOTAL / MiB} MiB; real Toxiproxy 2.12 ≈ 0.55x`,
        },
      ),
      figure(
        'round-trip latency p50, 64 B echo',
        'µs',
        { label: 'direct', value: p50[0] },
        { label: 'proxied', value: p50[1] },
        {
          budget: '<= 155 µs added',
          ok: p50[1] - p50[0] <= 155,
          note: `adds ${(p50[1] - p50[0]).toFixed(0)} µs; ${PINGS} round trips; real Toxiproxy 2.12 adds ≈155 µs`,
        },
      ),
      figure(
        'round-trip latency p99, 64 B echo',
        'µs',
        { label: 'direct', value: p99[0] },
        { label: 'proxied', value: p99[1] },
        { note: `adds ${(p99[1] - p99[0]).toFixed(0)} µs` },
      ),
    ];
  } finally {
    await Promise.all([sink.worker.terminate(), proxy.worker.terminate()]);
  }
}

if (!isMainThread) {
  const data = workerData as Role;
  if (data.role === 'sink') runSink();
  else await runProxy(data.upstream!);
}
