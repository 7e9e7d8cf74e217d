import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let gc: GcFn | null | undefined;

function gcFunction(): GcFn | null {
  if (gc !== undefined) return gc;
  try {
    // Exposes V8's gc() to a fresh context without a command-line flag.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as GcFn;
  } catch {
    gc = null;
  }
  return gc;
}

/**
 * Upload bodies arrive as one new 64 KiB buffer per socket read. V8 frees that external memory
 * only at ~64 MiB of garbage, so a 64 MiB upload would grow RSS by tens of MiB (measured: 38).
 * Every `everyBytes` (2 MiB) received, a young-generation GC (well under a millisecond) returns
 * those buffers (measured: 6.5 MiB growth for a 64 MiB upload). Re-measured on Node 24.21 with
 * suites/l2 stream-memory (a real daemon, RSS from /proc): 34.3 MiB growth without, 0.6 MiB with.
 * No design alternative holds it: the buffers are Node's, allocated per read of the request socket
 * (an HTTP server offers no `onread` to reuse one), and dropped at once; what grows is garbage V8
 * has not yet been told to collect. Hence this one small module, used only by the two upload paths.
 */
export class Reclaimer {
  readonly everyBytes: number;
  #pending = 0;
  collections = 0;

  constructor(everyBytes = 2 * 1024 * 1024) {
    this.everyBytes = everyBytes;
  }

  note(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending < this.everyBytes) return;
    this.#pending = 0;
    const fn = gcFunction();
    if (fn === null) return;
    fn({ type: 'minor' });
    this.collections += 1;
  }
}
