// The one error @faultline/crash throws. Its `kind` says what a caller (or a reader of a failed
// test) should conclude, so a wave that proved nothing is never mistaken for a bug found, nor a
// missing /proc for either:
//   vacuous      the check could not prove anything: no progress since the wave started, a worker
//                exited before the signal (or on its own as it fired), nothing live to signal;
//   violation    a real failure of the code under test: durability violations, orphans left, a
//                process that did not exit (or did not exit as expected);
//   usage        a bad argument or misuse of the harness (fix the test);
//   unavailable  the machine lacks what is needed (/proc, the posix addon, prlimit(1)) or refused it;
//   timeout      a bounded wait ran out (the message says what it waited for).

export type CrashErrorKind = 'vacuous' | 'violation' | 'usage' | 'unavailable' | 'timeout';

/** What every guard, wait and check of @faultline/crash throws; branch on `kind`, not on the message. */
export class CrashError extends Error {
  readonly kind: CrashErrorKind;
  constructor(kind: CrashErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CrashError';
    this.kind = kind;
  }
}
