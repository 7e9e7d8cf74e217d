import type { Issue, Matrix, Requirement } from './schema.ts';

/** Whether a policy selector (`when: { severity, tags }`) picks the issue; no selector picks every issue. */
export function issueMatches(when: Requirement['when'], issue: Issue): boolean {
  if (!when) return true;
  if (when.severity !== undefined) {
    const wanted = Array.isArray(when.severity) ? when.severity : [when.severity];
    if (!wanted.includes(issue.severity)) return false;
  }
  if (when.tags !== undefined && !when.tags.some((t) => issue.tags.includes(t))) return false;
  return true;
}

/** The layers an issue must be covered in: its own `layers` plus every policy rule that matches it. */
export function requiredLayers(matrix: Matrix, issue: Issue): Set<string> {
  const layers = new Set(issue.layers ?? []);
  for (const rule of matrix.policy.require) {
    if (issueMatches(rule.when, issue)) for (const layer of rule.layers) layers.add(layer);
  }
  // Keep the matrix's column order so reports and iteration are deterministic.
  return new Set(Object.keys(matrix.layers).filter((l) => layers.has(l)));
}

/** Whether `policy.verify` asks for the issue's required cells to be verified (every declared break caught). */
export function verifyRequired(matrix: Matrix, issue: Issue): boolean {
  const rule = matrix.policy.verify;
  return rule !== undefined && issueMatches(rule.when, issue);
}
