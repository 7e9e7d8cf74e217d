// The embedded server under test in bench/toxiproxy.bench.ts, in a process of its own as the
// real Toxiproxy is: `node bench/toxiproxy-proxy.ts UPSTREAM... [--no-adopt] [--trace]`. Creates
// one proxy per upstream, prints their ports on one stdout line, and exits when stdin closes
// (the bench ends, or dies).
// `--no-adopt`: accepted sockets read through 'data' events (reader.ts's fast path off).
// `--trace`: on exit, print to stderr what GC and the event loop did since the last SIGUSR2
// (the bench sends one after its throughput trials, so this covers the round trips): GC pauses
// from a PerformanceObserver and the loop's utilisation (no timer of its own that could wake
// the loop and perturb what is measured).
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { start } from '../packages/toxiproxy/src/index.ts';
import { setAdoptAccepted } from '../packages/toxiproxy/src/reader.ts';

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('--'));
setAdoptAccepted(!flags.includes('--no-adopt'));
const server = await start();
const ports: string[] = [];
for (const [i, upstream] of args.filter((arg) => !arg.startsWith('--')).entries()) {
  const res = await fetch(`${server.url}/proxies`, {
    method: 'POST',
    body: JSON.stringify({ name: `bench${i}`, listen: '127.0.0.1:0', upstream }),
  });
  const { listen } = (await res.json()) as { listen: string };
  ports.push(listen.slice(listen.lastIndexOf(':') + 1));
}

const gcs: number[] = [];
let since = performance.eventLoopUtilization();
if (flags.includes('--trace')) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
}
process.on('SIGUSR2', () => {
  gcs.length = 0;
  since = performance.eventLoopUtilization();
});

process.stdout.write(`${ports.join(' ')}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  if (flags.includes('--trace')) {
    const elu = performance.eventLoopUtilization(since);
    const total = gcs.reduce((a, b) => a + b, 0);
    process.stderr.write(
      `${gcs.length} GC pauses (max ${Math.max(0, ...gcs).toFixed(1)} ms, total ${total.toFixed(1)} ms), ` +
        `event loop busy ${(elu.active / 1000).toFixed(2)} s of ${((elu.active + elu.idle) / 1000).toFixed(1)} s\n`,
    );
  }
  void server.close().then(() => process.exit(0));
});
