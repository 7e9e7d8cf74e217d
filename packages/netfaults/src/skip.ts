// Suite helpers: turn BackendUnavailableError into a skipped test with the reason (the gate
// shows the cell `not-run`). They take vitest's test context (anything with `skip(note)`),
// so the core never imports vitest.
import { createNetworkEnvironment, type NetworkEnvironmentOptions } from './create.ts';
import type { NetworkEnvironment } from './environment.ts';
import { BackendUnavailableError } from './errors.ts';

/** vitest's TestContext satisfies this: `ctx.skip(note)` throws to skip the running test. */
export interface SkipContext {
  skip(note: string): void;
}

function skipWith(ctx: SkipContext, error: BackendUnavailableError): never {
  ctx.skip(error.message);
  // vitest's skip() throws; a context whose skip() returns still must not get an environment.
  throw error;
}

/** `createNetworkEnvironment(options)`, or skip the current test with the reason the backend is unavailable. */
export async function networkEnvironmentOrSkip(
  ctx: SkipContext,
  options?: NetworkEnvironmentOptions,
): Promise<NetworkEnvironment> {
  try {
    return await createNetworkEnvironment(options);
  } catch (error) {
    if (error instanceof BackendUnavailableError) skipWith(ctx, error);
    throw error;
  }
}

/** One environment shared by a file's tests, created on first use (see README "Writing an l3 suite"). */
export interface SharedNetworkEnvironment {
  /** The environment; skips the calling test when the backend is unavailable. */
  get(ctx: SkipContext): Promise<NetworkEnvironment>;
  /** For afterEach: removes toxics and heals partitions (recording evidence); no-op before first use. */
  resetToxics(): Promise<void>;
  /** For afterAll: closes the environment if it was created. */
  close(): Promise<void>;
}

export function sharedNetworkEnvironment(options?: NetworkEnvironmentOptions): SharedNetworkEnvironment {
  let pending: Promise<NetworkEnvironment> | undefined;
  return {
    async get(ctx) {
      pending ??= createNetworkEnvironment(options);
      try {
        return await pending;
      } catch (error) {
        if (error instanceof BackendUnavailableError) skipWith(ctx, error);
        throw error;
      }
    },
    async resetToxics() {
      const env = await pending?.catch(() => undefined);
      await env?.resetToxics();
    },
    async close() {
      const env = await pending?.catch(() => undefined);
      pending = undefined;
      await env?.close();
    },
  };
}
