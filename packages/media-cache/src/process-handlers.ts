import type { LogFields, Logger } from './log.ts';

export type UncaughtPolicy = 'exit' | 'continue';
export type UncaughtKind = 'uncaughtException' | 'unhandledRejection';

/** Exit code after an uncaught exception / unhandled rejection under policy `exit` (EX_SOFTWARE). */
export const EXIT_UNCAUGHT = 70;

export interface ProcessHandlerOptions {
  policy: UncaughtPolicy;
  log: Logger;
  /** Extra context for the log line (in-flight requests, state, …). */
  context?: () => LogFields;
  /** Injected for tests; defaults to process.exit. */
  exit?: (code: number) => void;
  /** Observes every handled fault (counters). */
  onFault?: (kind: UncaughtKind, error: unknown) => void;
  /** Test-only (unsafe.exitBeforeUncaughtLog): under policy exit, exit before the log line. */
  exitBeforeLog?: boolean;
}

/** Logs one uncaught fault with its stack and context, then applies the policy. */
export function handleUncaught(kind: UncaughtKind, error: unknown, options: ProcessHandlerOptions): UncaughtPolicy {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  if (options.exitBeforeLog && options.policy === 'exit') exit(EXIT_UNCAUGHT);
  let context: LogFields = {};
  try {
    context = options.context?.() ?? {};
  } catch (contextError) {
    context = { contextError: String(contextError) };
  }
  options.log.log(
    options.policy === 'exit' ? 'fatal' : 'error',
    kind === 'uncaughtException' ? 'uncaught-exception' : 'unhandled-rejection',
    {
      error,
      policy: options.policy,
      uptimeMs: Math.round(process.uptime() * 1000),
      context,
    },
  );
  options.onFault?.(kind, error); // after the log line: recording the fault comes first
  if (options.policy === 'exit') exit(EXIT_UNCAUGHT);
  return options.policy;
}

/** Installs both handlers; returns a function that removes them. */
export function installProcessHandlers(options: ProcessHandlerOptions): () => void {
  const onException = (error: Error) => {
    handleUncaught('uncaughtException', error, options);
  };
  const onRejection = (reason: unknown) => {
    handleUncaught('unhandledRejection', reason, options);
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
