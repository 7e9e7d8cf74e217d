// Child process entry: runs one project's vitest suite through vitest's programmatic API and
// streams every result to the parent over IPC. A separate process (its own process group) lets
// the parent enforce the layer timeout by killing the whole tree, hung test workers included,
// and still keep every result that arrived before the kill.
import { FaultlineReporter } from '@faultline/vitest';
import { startVitest } from 'vitest/node';
import type { WorkerJob, WorkerMessage } from './worker-protocol.ts';

const send = (message: WorkerMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });

async function main(): Promise<number> {
  const raw = process.env.FAULTLINE_WORKER_JOB;
  if (!raw) throw new Error('vitest-worker: FAULTLINE_WORKER_JOB is not set (this file is started by faultline run)');
  const job = JSON.parse(raw) as WorkerJob;
  const pending: Promise<void>[] = [];
  const reporter = new FaultlineReporter({
    project: job.project,
    root: job.root,
    onEvent: (event) => {
      pending.push(send(event));
    },
  });
  const vitest = await startVitest(
    job.files ?? [],
    {
      root: job.dir,
      run: true,
      watch: false,
      reporters: [reporter],
      passWithNoTests: true,
      sequence: { seed: job.seed },
      ...(job.issue ? { tagsFilter: [job.issue] } : {}),
      ...(job.shard ? { shard: job.shard } : {}),
    },
    {},
    { stdout: process.stderr },
  );
  await vitest.close();
  await Promise.all(pending);
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}

main().then(
  async (exitCode) => {
    await send({ type: 'done', exitCode });
    process.exit(0);
  },
  async (error: unknown) => {
    await send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
    process.exit(3);
  },
);
