import { sleepUnless } from './deadline.ts';
import { errorMessage } from './errors.ts';
import { fpAsync } from './fail.ts';
import { type Logger, silentLogger } from './log.ts';

export type TaskState = 'running' | 'backoff' | 'failed' | 'completed' | 'stopped';

export interface TaskSpec {
  name: string;
  /** Critical tasks are restarted with exponential backoff; others are marked failed. */
  critical: boolean;
  run(signal: AbortSignal): Promise<void>;
}

export interface TaskStatus {
  name: string;
  critical: boolean;
  state: TaskState;
  /** Restarts so far (total, not reset). */
  restarts: number;
  failures: number;
  lastError: string | null;
  lastFailureAt: string | null;
  nextRestartInMs: number | null;
}

export interface SupervisorOptions {
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** After this many consecutive failures a critical task is given up on (state `failed`). */
  maxRestarts: number;
  /** Restart critical tasks (default true; false only via `unsafe.noTaskRestart`). */
  restart?: boolean;
  /** A run that lasted this long resets the consecutive-failure count. */
  resetAfterMs?: number;
  log?: Logger;
  onChange?: () => void;
}

interface Entry {
  spec: TaskSpec;
  status: TaskStatus;
  consecutive: number;
  done: Promise<void>;
}

/**
 * Owns the background tasks. A task that throws or rejects is detected (logged with its stack),
 * critical ones are restarted after `backoffInitialMs * 2^n` (capped, bounded in count) and the
 * state is visible in status. `stop()` aborts every task and waits for them, with a deadline.
 */
export class Supervisor {
  readonly options: SupervisorOptions;
  readonly #tasks = new Map<string, Entry>();
  readonly #controller = new AbortController();
  readonly #log: Logger;

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.#log = options.log ?? silentLogger;
  }

  get stopping(): boolean {
    return this.#controller.signal.aborted;
  }

  spawn(spec: TaskSpec): void {
    if (this.#tasks.has(spec.name)) throw new Error(`supervisor: a task named "${spec.name}" already exists`);
    if (this.stopping) throw new Error(`supervisor: cannot start "${spec.name}", the supervisor is stopping`);
    const status: TaskStatus = {
      name: spec.name,
      critical: spec.critical,
      state: 'running',
      restarts: 0,
      failures: 0,
      lastError: null,
      lastFailureAt: null,
      nextRestartInMs: null,
    };
    const entry: Entry = { spec, status, consecutive: 0, done: Promise.resolve() };
    this.#tasks.set(spec.name, entry);
    entry.done = this.#loop(entry);
  }

  async #loop(entry: Entry): Promise<void> {
    const { spec, status } = entry;
    const signal = this.#controller.signal;
    while (!signal.aborted) {
      this.#set(status, 'running');
      const started = performance.now();
      try {
        await fpAsync(`task.${spec.name}`);
        await spec.run(signal);
        if (signal.aborted) break;
        this.#set(status, 'completed');
        return;
      } catch (error) {
        if (signal.aborted) break;
        status.failures += 1;
        status.lastError = errorMessage(error);
        status.lastFailureAt = new Date().toISOString();
        if (performance.now() - started >= (this.options.resetAfterMs ?? 30_000)) entry.consecutive = 0;
        entry.consecutive += 1;
        this.#log.log('error', 'task-failed', {
          task: spec.name,
          critical: spec.critical,
          failures: status.failures,
          error,
        });
        if (!spec.critical || this.options.restart === false || entry.consecutive > this.options.maxRestarts) {
          this.#set(status, 'failed');
          if (spec.critical)
            this.#log.log('error', 'task-gave-up', { task: spec.name, consecutiveFailures: entry.consecutive });
          return;
        }
        const delay = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** (entry.consecutive - 1));
        status.nextRestartInMs = delay;
        this.#set(status, 'backoff');
        await sleepUnless(delay, signal);
        status.nextRestartInMs = null;
        if (signal.aborted) break;
        status.restarts += 1;
        this.#log.log('warn', 'task-restarted', { task: spec.name, restarts: status.restarts, afterMs: delay });
      }
    }
    this.#set(status, 'stopped');
  }

  #set(status: TaskStatus, state: TaskState): void {
    if (status.state === state) return;
    status.state = state;
    this.options.onChange?.();
  }

  status(): TaskStatus[] {
    return [...this.#tasks.values()].map((e) => ({ ...e.status }));
  }

  task(name: string): TaskStatus | undefined {
    const entry = this.#tasks.get(name);
    return entry === undefined ? undefined : { ...entry.status };
  }

  /** Aborts every task and waits for them up to `deadlineMs`; returns the names still running. */
  async stop(deadlineMs: number): Promise<string[]> {
    this.#controller.abort(new Error('supervisor stopping'));
    const entries = [...this.#tasks.values()];
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deadlineMs);
    });
    await Promise.race([Promise.all(entries.map((e) => e.done)), timeout]);
    clearTimeout(timer);
    return entries.filter((e) => e.status.state === 'running' || e.status.state === 'backoff').map((e) => e.spec.name);
  }
}
