// Issue links for tests in any language: the issue id in brackets in the test's name
// (`TestSave/[atomic-save]_keeps_state`, `[kv-torn-write] kill during write`), a JUnit property
// `faultline.issue`, or `issues` on a line of the evidence file. Checked against the matrix like
// vitest tags: an unknown id is an error naming the test, with the nearest known id.
import { didYouMean } from '@faultline/matrix';

// A bracket group not glued to a word: pytest's parametrized `test_x[1-2]` is not a claim.
const BRACKETS = /(?<![A-Za-z0-9])\[([a-z0-9][a-z0-9._-]*(?:\s*,\s*[a-z0-9][a-z0-9._-]*)*)\]/g;

/** The issue ids a test name claims in brackets, in order, each once. */
export function bracketIssues(name: string): string[] {
  const ids = [...name.matchAll(BRACKETS)].flatMap((m) => (m[1] ?? '').split(',').map((s) => s.trim()));
  return [...new Set(ids)];
}

/** Splits claimed ids into known ones (the test's tags) and one message per unknown id. */
export function checkClaims(
  claimed: readonly string[],
  known: ReadonlySet<string>,
  where: string,
): { tags: string[]; unknown: string[] } {
  const tags: string[] = [];
  const unknown: string[] = [];
  for (const id of new Set(claimed)) {
    if (known.has(id)) tags.push(id);
    else {
      const list = [...known].sort();
      const issues =
        list.length > 12 ? `${list.slice(0, 12).join(', ')}, and ${list.length - 12} more` : list.join(', ');
      unknown.push(
        `unknown issue "${id}" claimed by ${where}${didYouMean(id, known)}: a test claims an issue with its id in brackets in its name, a JUnit property faultline.issue, or "issues" in an evidence line (issues: ${issues})`,
      );
    }
  }
  return { tags, unknown };
}
