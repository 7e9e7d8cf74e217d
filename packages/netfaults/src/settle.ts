// Cleanups that must all run even when one fails, and the client errors they tolerate.

/** Runs every cleanup, then throws the first failure (so one failing removal does not leak the rest). */
export async function settleAll(tasks: Array<() => Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks.map((t) => t()));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new AggregateError(failed, `netfaults: ${failed.length} cleanups failed`);
}

/** toxiproxy-node-client's error for an HTTP 404 (the proxy or toxic is already gone). */
export function isNotFound(error: unknown): boolean {
  return error instanceof Error && /status code 404/.test(error.message);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
