// Service settings, from the environment. Every wait the service does has a bound here, so an
// operator (and a test) can see and tune each deadline.

export interface Config {
  host: string;
  /** 0 picks a free port; the real one is printed in the `listening on` line. */
  port: number;
  redisUrl: string;
  /** Prefix of every Redis key, so several queues (or tests) can share one server. */
  keyPrefix: string;
  /** Deadline of one Redis command: past it the request answers 503 instead of hanging. */
  commandTimeoutMs: number;
  /** Longest long-poll a claim may ask for (`?wait=`). */
  maxWaitMs: number;
  /** Most long-poll claims waiting at once; each holds a Redis connection. */
  maxWaitingClaims: number;
  /** How long a claimed job stays invisible before the reaper puts it back in the queue. */
  leaseMs: number;
  reapIntervalMs: number;
  /** SIGTERM: how long in-flight requests may take to finish before they are cut. */
  drainMs: number;
}

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  redisUrl: 'redis://127.0.0.1:6379',
  keyPrefix: 'jobs',
  commandTimeoutMs: 1_000,
  maxWaitMs: 20_000,
  maxWaitingClaims: 64,
  leaseMs: 30_000,
  reapIntervalMs: 1_000,
  drainMs: 25_000,
};

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

export function configFromEnv(env: Env = process.env): Config {
  return {
    host: env.HOST ?? DEFAULTS.host,
    port: intFrom(env, 'PORT', DEFAULTS.port),
    redisUrl: env.REDIS_URL ?? DEFAULTS.redisUrl,
    keyPrefix: env.KEY_PREFIX ?? DEFAULTS.keyPrefix,
    commandTimeoutMs: intFrom(env, 'COMMAND_TIMEOUT_MS', DEFAULTS.commandTimeoutMs),
    maxWaitMs: intFrom(env, 'MAX_WAIT_MS', DEFAULTS.maxWaitMs),
    maxWaitingClaims: intFrom(env, 'MAX_WAITING_CLAIMS', DEFAULTS.maxWaitingClaims),
    leaseMs: intFrom(env, 'LEASE_MS', DEFAULTS.leaseMs),
    reapIntervalMs: intFrom(env, 'REAP_INTERVAL_MS', DEFAULTS.reapIntervalMs),
    drainMs: intFrom(env, 'DRAIN_MS', DEFAULTS.drainMs),
  };
}
