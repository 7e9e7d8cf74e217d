import { INTERRUPT_EXIT, interruptOnSignals } from '@faultline/runner';
import { type Flags, integer, list, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { checkIssue, checkLayers, load, resultsDir } from './matrix-flags.ts';
import { checkBreakNames, runVerify, VerifyInterrupted, verifySummary } from './verify.ts';

/** `faultline verify`: each declared break run, expecting its cell to turn red. */
export async function verifyCommand(io: Io, flags: Flags): Promise<number> {
  const loaded = load(flags);
  const layers = checkLayers(loaded, list(flags.layer));
  const issues = list(flags.issue)?.map((id) => checkIssue(loaded, id) as string);
  const names = checkBreakNames(loaded, list(flags.break));
  const jobs = integer('jobs', flags.jobs);
  if (jobs !== undefined && (jobs < 1 || jobs > 16)) throw new UsageError(`--jobs takes 1 to 16; got ${jobs}`);
  const seed = integer('seed', flags.seed);
  const interrupt = interruptOnSignals();
  let outcome: Awaited<ReturnType<typeof runVerify>>;
  try {
    outcome = await runVerify(loaded, {
      signal: interrupt.signal,
      resultsDir: resultsDir(loaded, flags),
      log: (line) => io.out.write(`${line}\n`),
      ...(issues ? { issues } : {}),
      ...(names ? { names } : {}),
      ...(layers ? { layers } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(jobs !== undefined ? { jobs } : {}),
    });
  } catch (error) {
    if (!(error instanceof VerifyInterrupted)) throw error;
    io.err.write(`faultline verify: ${error.message}\n`);
    return error.signal === 'SIGTERM' ? INTERRUPT_EXIT.SIGTERM : INTERRUPT_EXIT.SIGINT;
  } finally {
    interrupt.dispose();
  }
  io.out.write(`${verifySummary(outcome)}\n`);
  return outcome.breaks.every((b) => b.outcome === 'caught') ? 0 : 1;
}
