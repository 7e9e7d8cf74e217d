// The service under test, two ways: in this process (l1, l3: its Redis client can be wrapped or
// routed through a proxy) and as its own process through src/main.ts (l2: signals and kill -9).
// Plus a JobStore of the tests' own, to look into Redis and enqueue behind the service's back.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { installOrphanGuard, type ManagedProcess, spawnManaged, waitFor, waitForLine } from '@faultline/crash';
import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { type Config, DEFAULTS } from '../../src/config.ts';
import { connectRedis, whenReady } from '../../src/redis.ts';
import { JobService } from '../../src/service.ts';
import { JobStore } from '../../src/store.ts';
import { get } from './http.ts';

export const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');

/** Short deadlines so faults show within a test, and a key prefix of its own per test. */
export function testConfig(redisUrl: string, overrides: Partial<Config> = {}): Config {
  return {
    ...DEFAULTS,
    port: 0,
    redisUrl,
    keyPrefix: `t-${randomUUID()}`,
    commandTimeoutMs: 250,
    maxWaitMs: 10_000,
    leaseMs: 1_000,
    reapIntervalMs: 100,
    drainMs: 5_000,
    ...overrides,
  };
}

const closers: Array<() => Promise<unknown> | unknown> = [];

/** Registers teardown for the current test (run in reverse order after it). */
export function onCleanup(fn: () => Promise<unknown> | unknown): void {
  closers.push(fn);
}

// Hooks run in reverse order of registration: the orphan check (first) runs after the cleanup,
// so it only finds what a test really left behind.
installOrphanGuard(afterEach);
afterEach(async () => {
  for (const fn of closers.splice(0).reverse()) await fn();
});

/** A client of the tests' own (not the service's), closed after the test. */
export async function client(url: string, commandTimeoutMs = 2_000): Promise<Redis> {
  const redis = connectRedis(url, commandTimeoutMs, () => undefined);
  onCleanup(() => redis.disconnect());
  await whenReady(redis, 5_000);
  return redis;
}

/** How many clients are blocked in Redis right now (waiting in BLMOVE), from INFO clients. */
export async function blockedClients(redis: Redis): Promise<number> {
  const info = await redis.info('clients');
  return Number(/^blocked_clients:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

/** The same queue as the service's, through the service's own code, on a client of the tests. */
export async function inspect(config: Config): Promise<JobStore> {
  return new JobStore(await client(config.redisUrl), { ...config, commandTimeoutMs: 2_000 });
}

export interface Running {
  service: JobService;
  url: string;
}

export interface StartOptions {
  /**
   * Wait until /health says Redis is up (default). The service listens before it has reached
   * Redis (it starts degraded, on purpose); tests of that pass false.
   */
  healthy?: boolean;
}

/** Bounded wait for `GET /health` to answer 200. */
export function untilHealthy(url: string, proc?: ManagedProcess): Promise<true> {
  return waitFor(
    `${url}/health to answer 200 (Redis reached)`,
    async () => (await get(`${url}/health`)).status === 200,
    {
      timeoutMs: 5_000,
      ...(proc ? { process: proc } : {}),
    },
  );
}

/** The service in this process, closed (gracefully, bounded by drainMs) after the test. */
export async function startInProcess(config: Config, redis?: Redis, options: StartOptions = {}): Promise<Running> {
  const service = new JobService({ config, ...(redis ? { redis } : {}) });
  onCleanup(() => service.close());
  const url = await service.listen();
  if (options.healthy ?? true) await untilHealthy(url);
  return { service, url };
}

export interface Child {
  proc: ManagedProcess;
  url: string;
}

/** Config as the environment of src/main.ts. */
function envOf(config: Config): Record<string, string> {
  return {
    PORT: String(config.port),
    REDIS_URL: config.redisUrl,
    KEY_PREFIX: config.keyPrefix,
    COMMAND_TIMEOUT_MS: String(config.commandTimeoutMs),
    MAX_WAIT_MS: String(config.maxWaitMs),
    LEASE_MS: String(config.leaseMs),
    REAP_INTERVAL_MS: String(config.reapIntervalMs),
    DRAIN_MS: String(config.drainMs),
  };
}

/** src/main.ts as a child process (Node strips the types); resolves once it printed its URL. */
export async function spawnService(config: Config, name = 'redis-jobs', options: StartOptions = {}): Promise<Child> {
  const proc = spawnManaged({ node: MAIN }, [], { name, env: envOf(config) });
  onCleanup(() => {
    if (proc.running) proc.kill('SIGKILL', 'group');
    return proc.exited;
  });
  const match = await waitForLine(proc, /listening on (http:\S+)/, { stream: 'stdout', timeoutMs: 10_000 });
  const url = match[1]!;
  if (options.healthy ?? true) await untilHealthy(url, proc);
  return { proc, url };
}
