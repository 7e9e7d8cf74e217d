// Bounded waits for in-process state. For waits on a child process use @faultline/crash's waitFor:
// it watches the process and retries a throwing probe. Here a throwing predicate fails the wait at
// once, since these predicates read the test's own state and an exception there is a bug.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `predicate` every 10 ms until it holds; throws after `timeoutMs`, naming what it waited
 * for. Returns how long it took (ms).
 */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<number> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return performance.now() - started;
}
