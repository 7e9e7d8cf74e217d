import { start } from '@faultline/toxiproxy';
import { type StartedBackend, splitHostPort } from './backend.ts';

/** The in-process @faultline/toxiproxy server on 127.0.0.1, proxies on free loopback ports. */
export async function startEmbedded(): Promise<StartedBackend> {
  const server = await start({ host: '127.0.0.1', port: 0, proxyMetrics: true });
  return {
    backend: 'embedded',
    apiUrl: server.url,
    containerRuntime: undefined,
    image: undefined,
    networking: undefined,
    listenFor: () => '127.0.0.1:0',
    addressOf: (listen) => ({ host: '127.0.0.1', port: splitHostPort(listen).port }),
    networkAddressOf: () => undefined,
    upstreamFor: async (upstream) => upstream,
    close: () => server.close(),
  };
}
