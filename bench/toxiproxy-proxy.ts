// The embedded server under test in bench/toxiproxy.bench.ts, in a process of its own as the
// real Toxiproxy is: `node bench/toxiproxy-proxy.ts UPSTREAM [--no-adopt] [--trace]`. Prints the
// proxy's port on stdout, and exits when stdin closes (the bench ends, or dies).
// `--no-adopt`: accepted sockets read through 'data' events (reader.ts's fast path off).
// `--trace`: on exit, print to stderr what the event loop and GC did while round trips ran.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { start } from '../packages/toxiproxy/src/index.ts';
import { setAdoptAccepted } from '../packages/toxiproxy/src/reader.ts';

const [upstream, ...flags] = process.argv.slice(2);
setAdoptAccepted(!flags.includes('--no-adopt'));
const server = await start();
const res = await fetch(`${server.url}/proxies`, {
  method: 'POST',
  body: JSON.stringify({ name: 'bench', listen: '127.0.0.1:0', upstream }),
});
const { listen } = (await res.json()) as { listen: string };

const gcs: number[] = [];
const delay = monitorEventLoopDelay({ resolution: 1 });
if (flags.includes('--trace')) {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push(entry.duration);
  }).observe({ entryTypes: ['gc'] });
  delay.enable();
  // The bench resets the counts once the throughput trials are over.
  process.on('SIGUSR2', () => {
    gcs.length = 0;
    delay.reset();
  });
}

process.stdout.write(`${listen.slice(listen.lastIndexOf(':') + 1)}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  if (flags.includes('--trace')) {
    const ms = (ns: number): string => (ns / 1e6).toFixed(2);
    process.stderr.write(
      `gc: ${gcs.length} pauses, max ${Math.max(0, ...gcs).toFixed(2)} ms, total ${gcs.reduce((a, b) => a + b, 0).toFixed(1)} ms; ` +
        `loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms\n`,
    );
  }
  void server.close().then(() => process.exit(0));
});
