// The queue in Redis. Keys (under a prefix):
//   <p>:data        hash  id -> payload
//   <p>:queue       list  ids waiting (LPUSH in, claimed from the right: FIFO)
//   <p>:processing  list  ids claimed and not yet acknowledged
//   <p>:leases      zset  id -> time (ms) its claim expires
//
// A claim MOVES an id from queue to processing (BLMOVE) instead of popping it, so a job is never
// only in the memory of a process that can die. The reaper puts expired claims back; an id in
// processing without a lease (its claimer died between BLMOVE and ZADD) first gets a grace
// lease, so a live claimer's ZADD still wins the race, and is put back when that expires.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { withDeadline } from './redis.ts';

export interface Job {
  id: string;
  payload: string;
}

export interface QueueStats {
  queued: number;
  processing: number;
}

export interface StoreOptions {
  keyPrefix: string;
  commandTimeoutMs: number;
  leaseMs: number;
}

export interface QueueKeys {
  data: string;
  queue: string;
  processing: string;
  leases: string;
}

export function queueKeys(prefix: string): QueueKeys {
  return {
    data: `${prefix}:data`,
    queue: `${prefix}:queue`,
    processing: `${prefix}:processing`,
    leases: `${prefix}:leases`,
  };
}

// Scripts run atomically in Redis: a job is never half-enqueued or half-acknowledged.
const ENQUEUE = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('LPUSH', KEYS[2], ARGV[1])`;

const ACK = `local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
if removed > 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
end
return removed`;

// KEYS: processing, leases, queue. ARGV: now, leaseMs. Returns how many ids went back to the queue.
const REAP = `local requeued = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local deadline = redis.call('ZSCORE', KEYS[2], id)
  if not deadline then
    redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
  elseif tonumber(deadline) <= tonumber(ARGV[1]) then
    redis.call('LREM', KEYS[1], 1, id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('RPUSH', KEYS[3], id)
    requeued = requeued + 1
  end
end
return requeued`;

export class JobStore {
  readonly keys: QueueKeys;
  readonly #redis: Redis;
  readonly #timeoutMs: number;
  readonly #leaseMs: number;

  constructor(redis: Redis, options: StoreOptions) {
    this.#redis = redis;
    this.keys = queueKeys(options.keyPrefix);
    this.#timeoutMs = options.commandTimeoutMs;
    this.#leaseMs = options.leaseMs;
  }

  /** Every command goes through here: one deadline for all of them. */
  #run<T>(what: string, call: (redis: Redis) => Promise<T>): Promise<T> {
    return withDeadline(what, this.#timeoutMs, () => call(this.#redis));
  }

  async enqueue(payload: string): Promise<string> {
    const id = randomUUID();
    const { data, queue } = this.keys;
    await this.#run('enqueue', (r) => r.eval(ENQUEUE, 2, data, queue, id, payload));
    return id;
  }

  async get(id: string): Promise<string | undefined> {
    const payload = await this.#run('HGET', (r) => r.hget(this.keys.data, id));
    return payload ?? undefined;
  }

  /**
   * Takes the oldest job, waiting up to `waitMs` for one on `blocking` (a connection of its own:
   * a blocking command holds its connection, and must not hold up every other request).
   */
  async claim(blocking: Redis, waitMs: number): Promise<Job | undefined> {
    const { queue, processing, leases, data } = this.keys;
    // BLMOVE with timeout 0 would block for ever; a zero wait is a plain LMOVE.
    const id =
      waitMs > 0
        ? await withDeadline('BLMOVE', waitMs + this.#timeoutMs, () =>
            blocking.blmove(queue, processing, 'RIGHT', 'LEFT', waitMs / 1_000),
          )
        : await this.#run('LMOVE', (r) => r.lmove(queue, processing, 'RIGHT', 'LEFT'));
    if (id === null) return undefined;
    // If this throws, the job stays in processing without a lease and the reaper returns it.
    await this.#run('ZADD', (r) => r.zadd(leases, Date.now() + this.#leaseMs, id));
    const payload = await this.#run('HGET', (r) => r.hget(data, id));
    return { id, payload: payload ?? '' };
  }

  /** Acknowledges a claimed job (deletes it). False when it is not claimed (unknown, or requeued). */
  async ack(id: string): Promise<boolean> {
    const { processing, leases, data } = this.keys;
    const removed = await this.#run('ack', (r) => r.eval(ACK, 3, processing, leases, data, id));
    return Number(removed) > 0;
  }

  async stats(): Promise<QueueStats> {
    const [queued, processing] = await Promise.all([
      this.#run('LLEN', (r) => r.llen(this.keys.queue)),
      this.#run('LLEN', (r) => r.llen(this.keys.processing)),
    ]);
    return { queued, processing };
  }

  /** Puts expired claims back at the head of the queue; returns how many. */
  async reap(now = Date.now()): Promise<number> {
    const { processing, leases, queue } = this.keys;
    const requeued = await this.#run('reap', (r) => r.eval(REAP, 3, processing, leases, queue, now, this.#leaseMs));
    return Number(requeued);
  }

  async ping(): Promise<void> {
    await this.#run('PING', (r) => r.ping());
  }
}
