// Time from createNetworkEnvironment() to a usable proxy (the first byte echoed through it),
// embedded backend (baseline) vs containers backend (subject), median of 10 each, alternating.
// The containers backend needs an engine (DOCKER_HOST); it uses FAULTLINE_TOXIPROXY_IMAGE, or
// builds the embedded server image on the local Node base image first (not timed). Without an
// engine only the embedded figure is reported, with the reason.
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import {
  type BackendName,
  buildEmbeddedServerImage,
  createNetworkEnvironment,
  detectContainerEngine,
} from '../packages/netfaults/src/index.ts';
import { type BenchFigure, figure, median } from './figure.ts';

const RUNS = 10;

async function timeToFirstByte(backend: BackendName, echoPort: number, image?: string): Promise<number> {
  const started = performance.now();
  const env = await createNetworkEnvironment({ backend, ...(image ? { image } : {}) });
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

export default async function bench(): Promise<BenchFigure[]> {
  const echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  }).listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  const name = 'createNetworkEnvironment() to first byte echoed through a proxy (median of 10)';
  try {
    const engine = await detectContainerEngine(5000);
    let image = process.env.FAULTLINE_TOXIPROXY_IMAGE || undefined;
    let reason = engine.ok ? undefined : engine.reason;
    if (engine.ok && !image) {
      try {
        image = (await buildEmbeddedServerImage()).tag;
      } catch (error) {
        reason = `cannot build the embedded server image: ${(error as Error).message}`;
      }
    }
    const embedded: number[] = [];
    const containers: number[] = [];
    await timeToFirstByte('embedded', echoPort); // warm-up: module loading
    if (!reason) await timeToFirstByte('containers', echoPort, image);
    for (let i = 0; i < RUNS; i++) {
      embedded.push(await timeToFirstByte('embedded', echoPort));
      if (!reason) containers.push(await timeToFirstByte('containers', echoPort, image));
    }
    const baseline = { label: 'embedded', value: median(embedded) };
    if (reason) {
      return [figure(name, 'ms', baseline, baseline, { note: `containers not measured: ${reason}` })];
    }
    const engineName = engine.ok ? engine.name : '';
    const env = await createNetworkEnvironment({ backend: 'containers', ...(image ? { image } : {}) });
    const networking = env.networking;
    await env.close();
    return [
      figure(
        name,
        'ms',
        baseline,
        { label: 'containers', value: median(containers) },
        {
          note: `${engineName}, image ${image}, ${networking} networking; containers range ${Math.round(Math.min(...containers))}–${Math.round(Math.max(...containers))} ms`,
        },
      ),
    ];
  } finally {
    echo.close();
  }
}
