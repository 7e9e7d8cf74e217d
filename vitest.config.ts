import { defineConfig } from 'vitest/config';

// The toolkit's own unit tests, plus the suites' honesty checks (they run faultline on a
// suite with a protection broken). The layered suites themselves are the product's
// matrix and run through `faultline run`, not here.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'suites/*/honesty/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/test/fixtures/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
