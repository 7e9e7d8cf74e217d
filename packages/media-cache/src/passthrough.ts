// Passthrough mode: the cache dir is unusable, so reads go straight to the origins and nothing is
// written until a probe of the cache dir succeeds.
import type { Logger } from './log.ts';

export interface PassthroughState {
  active: boolean;
  reason: string | null;
  since: string | null;
}

export interface PassthroughHooks {
  log: Logger;
  /** After entering: wake the maintenance loop so it starts probing. */
  entered: () => void;
  /** After leaving, before `changed`: forget the write errors that led here. */
  left: () => void;
  changed?: () => void;
}

export class PassthroughSwitch {
  /** Plain data: the status document spreads it. */
  readonly state: PassthroughState = { active: false, reason: null, since: null };
  readonly #hooks: PassthroughHooks;
  #enteredAt = 0;

  constructor(hooks: PassthroughHooks) {
    this.#hooks = hooks;
  }

  get active(): boolean {
    return this.state.active;
  }

  enter(reason: string): void {
    if (this.state.active) return;
    this.state.active = true;
    this.state.reason = reason;
    this.state.since = new Date().toISOString();
    this.#enteredAt = performance.now();
    this.#hooks.log.log('warn', 'passthrough-on', { reason });
    this.#hooks.changed?.();
    this.#hooks.entered();
  }

  exit(): void {
    if (!this.state.active) return;
    this.#hooks.log.log('info', 'passthrough-off', { after: this.state.reason });
    this.state.active = false;
    this.state.reason = null;
    this.state.since = null;
    this.#hooks.left();
    this.#hooks.changed?.();
  }

  /** The first probe waits one interval: an error that just happened is not retried at once. */
  probeDue(probeMs: number): boolean {
    return this.state.active && performance.now() - this.#enteredAt >= probeMs;
  }
}
