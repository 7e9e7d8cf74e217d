import { broken } from './breaks.ts';
import { handOffContainerReap } from './container-reap.ts';

/** The signals that interrupt a run, and the exit code each gives (128 + the signal's number). */
export const INTERRUPT_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof INTERRUPT_EXIT;

/** Why a run was aborted: the `reason` of the AbortSignal `interruptOnSignals` hands out. */
export interface Interrupted {
  kind: 'interrupted';
  signal: InterruptSignal;
}

export interface InterruptHandle {
  /** Aborts (reason: `Interrupted`) on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): InterruptSignal | undefined;
  /** Removes the listeners (unless a signal was received); the default signal behaviour returns. */
  dispose(): void;
}

/** The `Interrupted` reason of an aborted signal, or undefined when it was not aborted by one. */
export function interruptOf(signal: AbortSignal | undefined): Interrupted | undefined {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return reason && typeof reason === 'object' && (reason as Interrupted).kind === 'interrupted'
    ? (reason as Interrupted)
    : undefined;
}

/**
 * The one place `faultline run` listens for SIGINT and SIGTERM. The first signal aborts the returned
 * AbortSignal, which the runner turns into "stop every process of the layer, keep what finished,
 * mark the rest interrupted". A second signal means the user (or CI, escalating) will not wait: exit
 * at once with that signal's code; the first signal's handlers already SIGKILLed the process trees,
 * synchronously, and a detached child removes the running attempt's containers, so nothing is left
 * running for long either way.
 */
export function interruptOnSignals(exit: (code: number) => never = process.exit): InterruptHandle {
  const controller = new AbortController();
  let received: InterruptSignal | undefined;
  const on = (signal: InterruptSignal) => () => {
    if (received) {
      // No waiting now: the processes went on the first signal; the containers go after we do.
      handOffContainerReap();
      exit(INTERRUPT_EXIT[signal]);
    }
    received = signal;
    controller.abort({ kind: 'interrupted', signal } satisfies Interrupted);
  };
  const handlers = { SIGINT: on('SIGINT'), SIGTERM: on('SIGTERM') };
  // The break restores what issue 20 found: the CLI dies of the signal, its layer's processes run on.
  if (broken('noInterruptReap')) return { signal: controller.signal, received: () => received, dispose() {} };
  process.on('SIGINT', handlers.SIGINT);
  process.on('SIGTERM', handlers.SIGTERM);
  return {
    signal: controller.signal,
    received: () => received,
    dispose() {
      // Once interrupted the run is on its way out: a second signal while it writes its last line must
      // still exit with that signal's code, not kill the process with the default action (exit code null).
      if (received) return;
      process.off('SIGINT', handlers.SIGINT);
      process.off('SIGTERM', handlers.SIGTERM);
    },
  };
}
