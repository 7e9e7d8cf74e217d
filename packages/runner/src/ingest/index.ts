// Results of test commands in any language, read into one shape (see types.ts): one reader per format.
import type { ResultFormat } from '@faultline/matrix';
import { goTestJsonReader } from './go-test-json.ts';
import { junitReader } from './junit.ts';
import { libtestJsonReader } from './libtest-json.ts';
import { locateTests } from './locate.ts';
import type { IngestedTest, ResultsReader } from './types.ts';

export const readers: Readonly<Record<ResultFormat, ResultsReader>> = {
  junit: junitReader,
  'go-test-json': goTestJsonReader,
  'libtest-json': libtestJsonReader,
};

/** Reads a results text in `format`; tests without a file and line are located in `cwd`'s sources. */
export function ingestResults(format: ResultFormat, text: string, cwd: string): IngestedTest[] {
  const tests = readers[format].read(text);
  locateTests(format, cwd, tests);
  return tests;
}

export { bracketIssues, checkClaims } from './claims.ts';
export type { EvidenceLine } from './evidence-file.ts';
export { EVIDENCE_FILE_ENV, parseEvidenceFile, parseEvidenceLine } from './evidence-file.ts';
export { ISSUE_PROPERTY } from './junit.ts';
export type { IngestedTest, ResultsReader } from './types.ts';
