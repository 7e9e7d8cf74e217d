import { Writable } from 'node:stream';
import { main } from '../src/main.ts';

/** A non-TTY stream that keeps what is written (plain progress lines, as in CI). */
function capture(append: (s: string) => void): NodeJS.WriteStream {
  return Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    }),
    { isTTY: false },
  ) as unknown as NodeJS.WriteStream;
}

/** Runs the faultline CLI in-process with `args`: its exit code and what it wrote to stdout and stderr. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: capture((s) => {
      out += s;
    }),
    err: capture((s) => {
      err += s;
    }),
  });
  return { code, out, err };
}
