// Half-close on the fallback path: the accepted socket is not re-wrapped (as when Node's
// internal `Socket({ handle })` is unavailable), so the client side reads through `'data'`.
import { vi } from 'vitest';
import { halfCloseCases } from './half-close-cases.ts';

vi.mock('../src/reader.ts', async (original) => ({
  ...(await original<typeof import('../src/reader.ts')>()),
  adopt: (client: unknown) => client,
}));

halfCloseCases("fallback: 'data' reads");
