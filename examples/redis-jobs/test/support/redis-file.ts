// One redis-server per test file (tests keep apart by key prefix), stopped after the file.
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redis-server.ts';

/** Starts a redis-server for this file; read `.current` inside tests. */
export function useRedisServer(): { readonly current: RedisServer } {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis({ persistent: true });
  });
  afterAll(() => server?.stop());
  return {
    get current() {
      if (!server) throw new Error('redis-server is not started (useRedisServer() outside a test?)');
      return server;
    },
  };
}
