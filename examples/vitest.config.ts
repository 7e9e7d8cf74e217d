import { defineConfig } from 'vitest/config';

// The adoption test: faultline packed, installed from tarballs into projects outside this
// repository and run there with plain Node. Installs take ~30-90 s each, so the bounds are long;
// every wait inside the test has its own, shorter bound.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['adoption.test.ts', 'languages.test.ts'],
    testTimeout: 15 * 60_000,
    hookTimeout: 10 * 60_000,
    // The two projects install and run real processes: one at a time on a 2-core machine.
    fileParallelism: false,
  },
});
