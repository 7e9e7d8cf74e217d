import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import {
  type BackendName,
  buildEmbeddedServerImage,
  createNetworkEnvironment,
  detectContainerEngine,
} from '../packages/netfaults/src/index.ts';
import { startToxiproxyProcess, stopToxiproxyProcess } from '../packages/netfaults/test/toxiproxy-process.ts';
import { type BenchFigure, figure, median } from './figure.ts';

const RUNS = 10;
const NAME = 'createNetworkEnvironment() to first byte echoed through a proxy (median of 10)';

interface Target {
  backend: BackendName;
  image?: string;
  toxiproxyUrl?: string;
}

async function timeToFirstByte(target: Target, echoPort: number): Promise<number> {
  const started = performance.now();
  const env = await createNetworkEnvironment(target);
  try {
    const proxy = await env.proxy('echo', echoPort);
    const socket = connect(proxy.port, proxy.host);
    socket.write('x');
    await once(socket, 'data');
    const ms = performance.now() - started;
    socket.destroy();
    return ms;
  } finally {
    await env.close();
  }
}

/** The containers target, or why there is none. */
async function containersTarget(): Promise<{ target?: Target; reason?: string; note?: string }> {
  const engine = await detectContainerEngine(5000);
  if (!engine.ok) return { reason: engine.reason };
  let image = process.env.FAULTLINE_TOXIPROXY_IMAGE || undefined;
  try {
    image ??= (await buildEmbeddedServerImage()).tag;
  } catch (error) {
    return { reason: `cannot build the embedded server image: ${(error as Error).message}` };
  }
  return { target: { backend: 'containers', image }, note: `${engine.name}, image ${image}` };
}

const range = (values: number[]) => `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))} ms`;

export default async function bench(): Promise<BenchFigure[]> {
  const echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  }).listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  const given = process.env.FAULTLINE_TOXIPROXY_URL || undefined;
  const server = given ? undefined : await startToxiproxyProcess();
  try {
    const external: Target = { backend: 'external', toxiproxyUrl: given ?? server!.url };
    const containers = await containersTarget();
    const targets: Target[] = [{ backend: 'embedded' }, external, ...(containers.target ? [containers.target] : [])];
    const times = targets.map(() => [] as number[]);
    for (const t of targets) await timeToFirstByte(t, echoPort); // warm-up: module loading, image
    for (let i = 0; i < RUNS; i++) {
      for (const [k, t] of targets.entries()) times[k]!.push(await timeToFirstByte(t, echoPort));
    }
    const baseline = { label: 'embedded', value: median(times[0]!) };
    const figures = [
      figure(
        NAME,
        'ms',
        baseline,
        { label: 'external', value: median(times[1]!) },
        {
          note: `${given ? `the server at ${given}` : 'a faultline-toxiproxy process on loopback'}; external range ${range(times[1]!)}`,
        },
      ),
    ];
    if (containers.target) {
      figures.push(
        figure(
          NAME,
          'ms',
          baseline,
          { label: 'containers', value: median(times[2]!) },
          {
            note: `${containers.note}; containers range ${range(times[2]!)}`,
          },
        ),
      );
    } else figures[0]!.note += `; containers not measured: ${containers.reason}`;
    return figures;
  } finally {
    echo.close();
    await stopToxiproxyProcess(server);
  }
}
