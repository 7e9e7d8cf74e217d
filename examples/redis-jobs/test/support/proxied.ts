// Layer 3 plumbing: one redis-server per file, reached by the service only through a Toxiproxy
// proxy (embedded or a container; the runner picks the backend), and the file's hooks that undo
// every toxic and partition after each test (recording their evidence) and close the environment.
import {
  type NetProxy,
  type NetworkEnvironment,
  type SkipContext,
  sharedNetworkEnvironment,
} from '@faultline/netfaults';
import { afterAll, afterEach } from 'vitest';
import type { Config } from '../../src/config.ts';
import { useRedisServer } from './redis-file.ts';
import { testConfig } from './service.ts';

export interface Proxied {
  env: NetworkEnvironment;
  proxy: NetProxy;
  /** A config whose REDIS_URL is the proxy. */
  config: Config;
  /** redis-server itself, for the tests' own look into Redis past the faults. */
  directUrl: string;
}

export function useProxiedRedis(): (ctx: SkipContext, overrides?: Partial<Config>) => Promise<Proxied> {
  const redis = useRedisServer();
  const net = sharedNetworkEnvironment();
  afterEach(() => net.resetToxics());
  afterAll(() => net.close());
  return async (ctx, overrides = {}) => {
    const env = await net.get(ctx); // no backend → the test is skipped with the reason: a not-run cell
    const proxy = env.proxies.get('redis') ?? (await env.proxy('redis', redis.current.port));
    const config = testConfig(`redis://${proxy.host}:${proxy.port}`, overrides);
    return { env, proxy, config, directUrl: redis.current.url };
  };
}
