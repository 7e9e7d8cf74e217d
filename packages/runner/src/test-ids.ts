import type { TestRecord } from '@faultline/matrix';

const byPlace = (a: TestRecord, b: TestRecord) =>
  a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.id.localeCompare(b.id);

/** Gives every test in `tests` whose id another shares a suffix from `suffix(test, index in its group)`. */
function disambiguate(tests: TestRecord[], suffix: (t: TestRecord, i: number) => string): TestRecord[] {
  const groups = new Map<string, number>();
  for (const t of tests) groups.set(t.id, (groups.get(t.id) ?? 0) + 1);
  const seen = new Map<string, number>();
  return tests.map((t) => {
    if (groups.get(t.id) === 1) return t;
    const i = (seen.get(t.id) ?? 0) + 1;
    seen.set(t.id, i);
    return { ...t, id: `${t.id}${suffix(t, i)}` };
  });
}

/**
 * Sorts a layer's tests by place and makes their ids unique. The id (project, file, full name) is kept
 * when it is unique; two tests of one name in one file get their line and column (`@12:3`); the same test
 * run more than once in one project (a vitest config with several inner projects, repeats) a run number
 * (`#2`). Merge then keeps every one of them.
 */
export function uniqueTestIds(tests: readonly TestRecord[]): TestRecord[] {
  const sorted = [...tests].sort(byPlace);
  const placed = disambiguate(sorted, (t) => `@${t.line}:${t.column}`);
  return disambiguate(placed, (_t, i) => `#${i}`);
}
