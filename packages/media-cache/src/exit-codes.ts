/** Process exit codes of `media-cache serve` (documented in the README). */
export const EXIT = Object.freeze({
  /** Clean shutdown after SIGTERM/SIGINT (drained, socket and lock removed). */
  OK: 0,
  /** Startup failed (port in use, state dir unusable, …). */
  STARTUP_FAILED: 1,
  /** Bad command line or config file. */
  USAGE: 2,
  /** uncaughtException/unhandledRejection with `onUncaught: "exit"`. */
  UNCAUGHT: 70,
  /** Another live instance owns the lock / control socket. */
  LOCKED: 75,
  /** Shutdown did not finish within drain deadline + grace. */
  SHUTDOWN_TIMEOUT: 124,
  /** A second SIGINT while shutting down (128 + 2). */
  SECOND_SIGINT: 130,
  /** A second SIGTERM while shutting down (128 + 15). */
  SECOND_SIGTERM: 143,
});
