import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';
import { findMatrix, loadIssueTags } from './tags.ts';

export interface LayerProjectOptions {
  /** Matrix layer this project serves, e.g. "l1". Checked against the matrix. */
  layer: string;
  /** The project's directory; pass `import.meta.dirname`. Default: the current directory. */
  root?: string;
  /** Path to matrix.yaml. Default: FAULTLINE_MATRIX, else the nearest one above `root`. */
  matrix?: string;
  /** Test files, relative to root. Default: `test/**\/*.test.ts`. */
  include?: string[];
  /** Per-test timeout in ms. Default: 10 s for l1, 60 s for other layers. */
  testTimeout?: number;
  /** Run test files in parallel. Default: true for l1; false for other layers (real processes, ports, RSS). */
  fileParallelism?: boolean;
  /** Extra setup files run after faultline's own. */
  setupFiles?: string[];
}

// Beside this module: `.ts` when the workspace runs sources, `.js` when installed (built).
const setupFile = fileURLToPath(new URL(`./setup${extname(import.meta.url)}`, import.meta.url));

/**
 * The vitest config of one layered suite: issue tags from the matrix with `strictTags`,
 * test locations for reports, and the evidence setup file.
 */
export function defineLayerProject(options: LayerProjectOptions): ViteUserConfig {
  const root = options.root ?? process.cwd();
  const matrixFile = options.matrix ?? findMatrix(root);
  const { matrix, tags } = loadIssueTags(matrixFile);
  if (!(options.layer in matrix.layers)) {
    throw new Error(
      `${matrixFile}: defineLayerProject({ layer: "${options.layer}" }) names no layer of the matrix (layers: ${Object.keys(matrix.layers).join(', ')})`,
    );
  }
  const firstLayer = options.layer === Object.keys(matrix.layers)[0];
  return {
    test: {
      root,
      include: options.include ?? ['test/**/*.test.ts'],
      tags,
      strictTags: true,
      includeTaskLocation: true,
      setupFiles: [setupFile, ...(options.setupFiles ?? [])],
      testTimeout: options.testTimeout ?? (firstLayer ? 10_000 : 60_000),
      hookTimeout: options.testTimeout ?? (firstLayer ? 10_000 : 60_000),
      fileParallelism: options.fileParallelism ?? firstLayer,
    },
  };
}
