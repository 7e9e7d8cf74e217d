import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadMatrix, type Matrix } from '@faultline/matrix';
import type { TestTagDefinition } from 'vitest/config';

/** Finds matrix.yaml: FAULTLINE_MATRIX, else the nearest one at or above `from`. */
export function findMatrix(from: string = process.cwd()): string {
  if (process.env.FAULTLINE_MATRIX) return resolve(process.env.FAULTLINE_MATRIX);
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'matrix.yaml');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no matrix.yaml found at or above ${from}: set FAULTLINE_MATRIX or pass { matrix: FILE }`);
    }
    dir = parent;
  }
}

/** One vitest tag per matrix issue, so `strictTags` rejects a test tagged with an unknown issue. */
export function issueTags(matrix: Matrix): TestTagDefinition[] {
  return matrix.issues.map((issue) => ({
    name: issue.id,
    description: `${issue.ref ? `${issue.ref} ` : ''}${issue.title} [${issue.severity}]`,
  }));
}

export function loadIssueTags(matrixFile: string): { matrix: Matrix; tags: TestTagDefinition[] } {
  const { matrix } = loadMatrix(matrixFile);
  return { matrix, tags: issueTags(matrix) };
}
