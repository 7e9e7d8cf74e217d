import { defineConfig } from 'vitest/config';

// The toolkit's own unit tests, plus the suites' honesty checks (they run faultline on a
// suite with a protection broken) and the package checks in test/ (the tarballs `npm pack`
// makes of the built packages, through publint and arethetypeswrong). The layered suites themselves are the product's
// matrix and run through `faultline run`, not here.
// `@faultline/source` makes sibling packages resolve to their TypeScript sources (the
// packages' exports carry that condition first), so unit tests never run a stale build.
// Processes the tests spawn run plain Node, which resolves the built `dist/`.
const sourceConditions = ['@faultline/source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'suites/*/honesty/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/test/fixtures/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
