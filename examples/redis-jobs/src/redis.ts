// How the service talks to Redis: the client options that make an outage fail fast and heal by
// itself, and the deadline every command runs under. These are the protections the matrix
// covers (command-timeout, connection-reset, redis-outage).
import { Redis, type RedisOptions } from 'ioredis';

/** Redis did not answer in time, or is not reachable: the request answers 503 + Retry-After. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Replies that mean "Redis is there but cannot serve yet": retryable, so 503 as well. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN)\b/;

export function redisOptions(commandTimeoutMs: number): RedisOptions {
  return {
    // ioredis queues commands issued while disconnected until it reconnects, by default for
    // ever: requests would pile up behind an outage. Fail them at once instead.
    enableOfflineQueue: false,
    // A command in flight when the connection drops is otherwise re-sent after up to 20
    // reconnects; the client has long given up by then.
    maxRetriesPerRequest: 0,
    // Never stop reconnecting: Redis coming back must heal the service without a restart.
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    connectTimeout: Math.max(commandTimeoutMs, 500),
  };
}

/** The service's main connection. It connects in the background: the service starts even when Redis is down. */
export function connectRedis(url: string, commandTimeoutMs: number, onError: (error: Error) => void): Redis {
  const redis = new Redis(url, redisOptions(commandTimeoutMs));
  // Without a listener ioredis prints every reconnect failure as an unhandled error event.
  redis.on('error', onError);
  return redis;
}

/**
 * Redis failures as the HTTP layer sees them: connection problems and timeouts become
 * RedisUnavailableError; a real error reply (a bug: wrong type, bad script) stays as it is.
 */
export function classifyRedisError(what: string, error: unknown): Error {
  if (error instanceof RedisUnavailableError) return error;
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && !TRANSIENT_REPLY.test(error.message)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new RedisUnavailableError(`redis ${what} failed: ${reason}`, { cause: error });
}

/**
 * Runs one Redis call under a deadline. The call itself cannot be cancelled (ioredis has no
 * abort), but the request stops waiting for it: a hanging Redis costs `ms`, never a hung client.
 */
export async function withDeadline<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`redis did not answer ${what} within ${ms} ms`)), ms);
  });
  const work = Promise.resolve()
    .then(call)
    .catch((error: unknown) => {
      throw classifyRedisError(what, error);
    });
  // A late rejection after the deadline won must not surface as an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the connection is ready for commands, or throws RedisUnavailableError after `ms`. */
export async function whenReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  let onReady = (): void => undefined;
  try {
    await withDeadline(
      'connect',
      ms,
      () =>
        new Promise<void>((resolve) => {
          onReady = () => resolve();
          redis.once('ready', onReady);
        }),
    );
  } finally {
    redis.off('ready', onReady);
  }
}
